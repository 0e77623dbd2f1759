// A Graph's edges, and the two views of its storage that Boost.Graph's
// algorithms walk (graph/graph.cpp). Internal to graph/, not part of the
// API: Boost stays inside graph/.
//
// Each node's consumers are a chain of edges through flat arrays, in the
// order the edges were added, so adding a node allocates nothing beyond its
// own operand list (Boost's adjacency_list keeps two edge vectors per vertex
// and an edge list besides). Boost's algorithms run on two views: Forward
// (edges operand -> consumer) and Backward (consumer -> operand, i.e.
// Node::inputs, in graph/node_store.hpp).

#pragma once

#include <cstddef>
#include <iterator>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/graph/graph_traits.hpp>
#include <boost/iterator/counting_iterator.hpp>
#include <boost/iterator/iterator_facade.hpp>

#include "dagrad/graph/node.hpp"
#include "dagrad/graph/node_store.hpp"

namespace dagrad::detail {

// The consumer chains.
struct Edges {
  static constexpr NodeId none = ~NodeId{0};
  std::vector<NodeId> first, last;   // per node: its first and last edge, or none
  std::vector<NodeId> target, next;  // per edge: the consumer, the node's next edge

  std::size_t nodes() const { return first.size(); }
  void add_node() {
    first.push_back(none);
    last.push_back(none);
  }
  void add(NodeId from, NodeId to) {
    const auto e = static_cast<NodeId>(target.size());
    target.push_back(to);
    next.push_back(none);
    if (first[from] == none) first[from] = e;
    else next[last[from]] = e;
    last[from] = e;
  }
  void reserve(std::size_t n, std::size_t e) {
    first.reserve(n);
    last.reserve(n);
    target.reserve(e);
    next.reserve(e);
  }
};

struct ViewEdge {
  NodeId source, target;
  friend bool operator==(const ViewEdge&, const ViewEdge&) = default;
};

// Out-edges of `source` in the Forward view: a walk along its chain.
class ChainIterator : public boost::iterator_facade<ChainIterator, ViewEdge,
                                                    boost::forward_traversal_tag, ViewEdge> {
 public:
  ChainIterator() = default;
  ChainIterator(const Edges* g, NodeId source, NodeId e) : g_(g), source_(source), e_(e) {}

 private:
  friend class boost::iterator_core_access;
  ViewEdge dereference() const { return {source_, g_->target[e_]}; }
  bool equal(const ChainIterator& o) const { return e_ == o.e_; }
  void increment() { e_ = g_->next[e_]; }
  const Edges* g_ = nullptr;
  NodeId source_ = 0, e_ = Edges::none;
};

// Out-edges of `source` in the Backward view: its operands.
class InputIterator : public boost::iterator_facade<InputIterator, ViewEdge,
                                                    boost::random_access_traversal_tag, ViewEdge> {
 public:
  InputIterator() = default;
  InputIterator(NodeId source, const NodeId* p) : source_(source), p_(p) {}

 private:
  friend class boost::iterator_core_access;
  ViewEdge dereference() const { return {source_, *p_}; }
  bool equal(const InputIterator& o) const { return p_ == o.p_; }
  void increment() { ++p_; }
  void decrement() { --p_; }
  void advance(std::ptrdiff_t n) { p_ += n; }
  std::ptrdiff_t distance_to(const InputIterator& o) const { return o.p_ - p_; }
  NodeId source_ = 0;
  const NodeId* p_ = nullptr;
};

struct Forward {
  const Edges* edges;
  using out_edge_iterator = ChainIterator;
};
struct Backward {
  const NodeStore* nodes;
  using out_edge_iterator = InputIterator;
};

// What Boost's graph concepts ask of a view (IncidenceGraph and
// VertexListGraph), found by argument-dependent lookup.
inline std::size_t num_vertices(const Forward& g) { return g.edges->nodes(); }
inline std::size_t num_vertices(const Backward& g) { return g.nodes->size(); }
template <class View>
std::pair<boost::counting_iterator<NodeId>, boost::counting_iterator<NodeId>> vertices(const View& g) {
  return {NodeId{0}, static_cast<NodeId>(num_vertices(g))};
}
inline std::pair<ChainIterator, ChainIterator> out_edges(NodeId v, const Forward& g) {
  return {ChainIterator(g.edges, v, g.edges->first[v]), ChainIterator(g.edges, v, Edges::none)};
}
inline std::pair<InputIterator, InputIterator> out_edges(NodeId v, const Backward& g) {
  const std::vector<NodeId>& in = (*g.nodes)[v].inputs;
  return {InputIterator(v, in.data()), InputIterator(v, in.data() + in.size())};
}
template <class View>
std::size_t out_degree(NodeId v, const View& g) {
  auto [b, e] = out_edges(v, g);
  return static_cast<std::size_t>(std::distance(b, e));
}
template <class View>
NodeId source(ViewEdge e, const View&) { return e.source; }
template <class View>
NodeId target(ViewEdge e, const View&) { return e.target; }

}  // namespace dagrad::detail

namespace boost {
template <class View>
  requires std::is_same_v<View, dagrad::detail::Forward> || std::is_same_v<View, dagrad::detail::Backward>
struct graph_traits<View> {
  struct traversal_category : incidence_graph_tag, vertex_list_graph_tag {};
  using vertex_descriptor = dagrad::NodeId;
  using edge_descriptor = dagrad::detail::ViewEdge;
  using directed_category = directed_tag;
  using edge_parallel_category = allow_parallel_edge_tag;
  using out_edge_iterator = typename View::out_edge_iterator;
  using vertex_iterator = counting_iterator<dagrad::NodeId>;
  using degree_size_type = std::size_t;
  using vertices_size_type = std::size_t;
  using edges_size_type = std::size_t;
  static vertex_descriptor null_vertex() { return ~dagrad::NodeId{0}; }
};
}  // namespace boost
