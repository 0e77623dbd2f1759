#include "dagrad/graph/graphviz.hpp"

#include <unordered_map>
#include <vector>

// NOTE: g++ 12 at -O2 and above reports a false -Wmaybe-uninitialized inside
// Boost's edge iterator (a boost::optional it reads only after setting);
// the pragma covers Boost's headers only, not this file's code.
#pragma GCC diagnostic push
#if !defined(__clang__)  // clang has no such warning and no such false positive
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/property_map/function_property_map.hpp>
#pragma GCC diagnostic pop
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad {

namespace {

using DotGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using DotEdge = boost::graph_traits<DotGraph>::edge_descriptor;

// Boost calls a property writer as w(out, key); these adapt our std::function
// writers, which see plain indices, to Boost's descriptors.
struct VertexWriter {
  const GraphvizWriters* w;
  void operator()(std::ostream& out, std::size_t v) const {
    if (w->vertex) w->vertex(out, v);
  }
};

struct EdgeWriter {
  const GraphvizWriters* w;
  const DotGraph* g;
  void operator()(std::ostream& out, const DotEdge& e) const {
    if (w->edge) w->edge(out, boost::source(e, *g), boost::target(e, *g));
  }
};

struct GraphWriter {
  const GraphvizWriters* w;
  void operator()(std::ostream& out) const {
    if (w->graph) w->graph(out);
  }
};

}  // namespace

void write_graphviz(std::ostream& out, std::size_t vertex_count,
                    std::span<const std::pair<std::size_t, std::size_t>> edges,
                    const GraphvizWriters& writers) {
  DotGraph g(vertex_count);
  for (auto [from, to] : edges) {
    if (from >= vertex_count || to >= vertex_count)
      throw GraphError(fmt::format("graphviz: edge {} -> {} leaves the {} vertices", from, to,
                                   vertex_count));
    boost::add_edge(from, to, g);
  }
  auto id_of = [&writers](std::size_t v) {
    return writers.id ? writers.id(v) : fmt::format("v{}", v);
  };
  // write_graphviz prints `digraph G {`, the graph writer's lines, each
  // vertex as `id[attrs];`, then each edge as `a->b [attrs];`.
  boost::write_graphviz(out, g, VertexWriter{&writers}, EdgeWriter{&writers, &g},
                        GraphWriter{&writers},
                        boost::make_function_property_map<std::size_t>(id_of));
}

void write_graphviz(std::ostream& out, const Graph& g, std::span<const NodeId> nodes,
                    const GraphvizWriters& writers) {
  std::unordered_map<NodeId, std::size_t> index;
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    if (!index.emplace(nodes[k], k).second)
      throw GraphError(fmt::format("graphviz: node {} is listed twice", g.describe(nodes[k])));
  }
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  for (std::size_t k = 0; k < nodes.size(); ++k)
    for (NodeId in : g.node(nodes[k]).inputs)
      if (auto it = index.find(in); it != index.end()) edges.emplace_back(it->second, k);
  // Translate the drawing's vertex indices back to NodeIds for the writers.
  GraphvizWriters by_node;
  if (writers.vertex)
    by_node.vertex = [&](std::ostream& o, std::size_t v) { writers.vertex(o, nodes[v]); };
  if (writers.edge)
    by_node.edge = [&](std::ostream& o, std::size_t a, std::size_t b) {
      writers.edge(o, nodes[a], nodes[b]);
    };
  by_node.graph = writers.graph;
  by_node.id = [&](std::size_t v) {
    return writers.id ? writers.id(nodes[v]) : fmt::format("n{}", nodes[v]);
  };
  write_graphviz(out, nodes.size(), edges, by_node);
}

}  // namespace dagrad
