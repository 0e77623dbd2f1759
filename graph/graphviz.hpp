// Graphviz DOT output through Boost.Graph's write_graphviz, so that Boost
// stays inside graph/: the caller (viz/dot.cpp) supplies property writers
// that print each vertex's and edge's attribute list ("[label=...]") and the
// graph-level lines (attributes, clusters, extra nodes).
#pragma once

#include <cstddef>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <utility>

#include "dagrad/graph/graph.hpp"

namespace dagrad {

struct GraphvizWriters {
  // Writes " [attr=value, ...]" for vertex v (may write nothing).
  std::function<void(std::ostream&, std::size_t v)> vertex;
  // Writes " [attr=value, ...]" for the edge from -> to (may write nothing).
  std::function<void(std::ostream&, std::size_t from, std::size_t to)> edge;
  // Writes lines inside `digraph G { ... }` before the vertices: graph
  // attributes, cluster membership, DOT-only nodes and edges.
  std::function<void(std::ostream&)> graph;
  // The DOT id of vertex v; "v<index>" when empty. Ids must be DOT identifiers.
  std::function<std::string(std::size_t v)> id;
};

// A digraph of `vertex_count` vertices and the given (from, to) edges, in the
// order given (parallel edges are kept: one per operand slot).
void write_graphviz(std::ostream& out, std::size_t vertex_count,
                    std::span<const std::pair<std::size_t, std::size_t>> edges,
                    const GraphvizWriters& writers);

// The subgraph of `g` induced by `nodes`: one vertex per listed node and one
// edge per operand slot whose operand is also listed. The writers receive
// NodeIds; the default DOT id of node 17 is "n17".
void write_graphviz(std::ostream& out, const Graph& g, std::span<const NodeId> nodes,
                    const GraphvizWriters& writers);

}  // namespace dagrad
