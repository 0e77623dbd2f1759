// The graph IR. Nodes live in blocks in id order, each with its operands,
// and each node's consumers are chained through flat arrays, so adding a node
// allocates nothing but its operand list. Boost.Graph's algorithms run on
// views of that storage (edges operand -> consumer, or back): they give the
// topological order, reachability (for pruning and for autodiff) and cycle
// rejection. Boost stays inside graph/graph.cpp: nothing outside graph/
// includes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dagrad/graph/node.hpp"
#include "dagrad/graph/node_store.hpp"

namespace dagrad {

class Graph;

// A handle to a node, the value a user's model code passes around.
struct Expr {
  Graph* graph = nullptr;
  NodeId id = 0;

  bool valid() const { return graph != nullptr; }
  const Node& node() const;
  Shape shape() const;
  const std::string& name() const;
  // Names the node (Z1, A1); returns *this so a line can end in .named("A1").
  Expr named(std::string name) const;
};

class Graph {
 public:
  explicit Graph(DType dtype = DType::f64);
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&);
  Graph& operator=(const Graph&);

  DType dtype() const { return dtype_; }

  // Leaves of the graph. Names of inputs and params are unique.
  Expr input(std::string name, Shape shape);
  Expr param(std::string name, Shape shape);
  // A value the graph keeps between runs without training it: an optimizer's
  // moments v_dW1, s_dW1 and its step count t (train::minimize).
  Expr state(std::string name, Shape shape);
  Expr constant(double value, Shape shape);

  // Adds `op(inputs)` after checking shapes with the op's shape rule (a
  // ShapeError names the op, the operands and their shapes). An identical
  // node (same op, inputs and attributes) is returned instead of a copy, so
  // a gradient rule that asks for sigmoid(Z) gets the forward A back.
  Expr add(OpKind op, std::vector<NodeId> inputs, const Attrs& attrs = {},
           Shape given = {});

  std::size_t size() const { return nodes_.size(); }
  // Makes room for `nodes` nodes in all: the edge arrays and the
  // hash-consing table are sized once instead of growing as nodes come (a
  // rebuild knows its size in advance). Ids and results do not change.
  void reserve(std::size_t nodes);
  const Node& node(NodeId id) const { return nodes_[check_id(id)]; }
  Expr expr(NodeId id) { return Expr{this, check_id(id)}; }
  void set_name(NodeId id, std::string name);
  std::optional<NodeId> find(std::string_view name) const;
  std::vector<NodeId> consumers(NodeId id) const;
  // "W2" or, for an unnamed node, what it computes from named ones:
  // "add(matmul(W1, X), b1)" (two levels deep, then "%17 (add)").
  std::string describe(NodeId id) const;

  // Role and layer stamped on nodes created from now on (autodiff marks its
  // nodes as backward; the model builder marks each layer).
  Role current_role() const { return role_; }
  void set_current_role(Role r) { role_ = r; }
  int current_layer() const { return layer_; }
  void set_current_layer(int l) { layer_ = l; }

  // All nodes in topological order (operands before consumers).
  std::vector<NodeId> topological_order() const;
  // The ancestors of `outputs` (outputs included), in topological order: the
  // schedule an executor runs. A node that overwrites an operand (assign and
  // the fused optimizer updates: OpDef::writes) comes after every other
  // reader of that operand; a GraphError names a reader that cannot.
  std::vector<NodeId> schedule(std::span<const NodeId> outputs) const;
  // Per node: can it reach one of `targets` (is it an ancestor or a target)?
  std::vector<bool> ancestors_of(std::span<const NodeId> targets) const;
  // Per node: is it reachable from one of `sources` (a descendant or source)?
  std::vector<bool> descendants_of(std::span<const NodeId> sources) const;

  // A new graph of the nodes `order` lists, each after its operands,
  // numbered densely in that order; map[old id] is the new id (~0 for a node
  // left out). Nodes are copied as they are, with their names, roles and
  // layers: nothing is merged and no shape is checked again, since this
  // graph's nodes are already distinct (Graph::add) and checked, and so are
  // those of any part of it. A GraphError names an operand that `order`
  // lists after its consumer or not at all.
  Graph subgraph(std::span<const NodeId> order, std::vector<NodeId>& map) const;

  // Rebuilds a graph from a node list whose inputs may refer to any index
  // (a graph file). Rejects dangling edges and cycles with a GraphError, then
  // re-checks every shape in topological order.
  static Graph from_nodes(DType dtype, std::vector<Node> nodes);

 private:
  struct Impl;
  static constexpr NodeId no_writer = ~NodeId{0};
  NodeId check_id(NodeId id) const {
    if (id >= nodes_.size()) [[unlikely]] unknown_node(id);
    return id;
  }
  [[noreturn, gnu::cold]] void unknown_node(NodeId id) const;
  NodeId insert(Node&& node);
  // (reader, writer) pairs: reader must run before writer overwrites a leaf.
  std::vector<std::pair<NodeId, NodeId>> write_constraints(const std::vector<bool>& needed) const;

  DType dtype_;
  Role role_ = Role::forward;
  int layer_ = 0;
  detail::NodeStore nodes_;  // index = NodeId
  std::unique_ptr<Impl> impl_;
};

// RAII: nodes built in this scope get role `r` and layer `l`.
class BuildScope {
 public:
  BuildScope(Graph& g, Role r, int layer);
  ~BuildScope();
  BuildScope(const BuildScope&) = delete;
  BuildScope& operator=(const BuildScope&) = delete;

 private:
  Graph& g_;
  Role saved_role_;
  int saved_layer_;
};

}  // namespace dagrad
