#include "dagrad/graph/graph.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <deque>
#include <iterator>
#include <memory>
#include <numeric>
#include <queue>
#include <utility>

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>
#include <boost/property_map/property_map.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dagrad/graph/edges.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/id_table.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad {

namespace {

using detail::Backward;
using detail::Edges;
using detail::Forward;
using detail::IdTable;
using detail::NodeStore;

std::size_t name_hash(std::string_view name) { return std::hash<std::string_view>{}(name); }

}  // namespace

struct Graph::Impl {
  Edges consumers;
  IdTable by_hash;  // hash-consing: structural hash -> nodes
  IdTable by_name;  // hash of the name -> the node that has it
};

namespace {

std::size_t mix(std::size_t h, std::size_t v) {
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

// The bits of d, with -0.0 as 0.0 (they compare equal, so must hash equal):
// std::hash<double> runs a byte hash over them, a tenth of Graph::add's time.
std::size_t hash_double(double d) { return d == 0.0 ? 0 : std::bit_cast<std::uint64_t>(d); }

// Each attribute type's fields, mixed: equal attributes hash equal.
std::size_t scale_hash(Scale s) { return mix(hash_double(s.value), static_cast<std::size_t>(s.m_pow + 128)); }
std::size_t attrs_hash(const NoAttrs&) { return 0; }
std::size_t attrs_hash(const ConstantAttrs& a) { return hash_double(a.value); }
std::size_t attrs_hash(const MatmulAttrs& a) {
  return mix(scale_hash(a.scale), std::size_t(a.trans_a) | (std::size_t(a.trans_b) << 1));
}
std::size_t attrs_hash(const AffineAttrs& a) { return mix(scale_hash(a.scale), hash_double(a.offset)); }
std::size_t attrs_hash(const SlopeAttrs& a) { return hash_double(a.slope); }
std::size_t attrs_hash(const SumAttrs& a) {
  return mix(scale_hash(a.scale), static_cast<std::size_t>(a.axis + 2) | (std::size_t(a.keepdims) << 3));
}
std::size_t attrs_hash(const L2Attrs& a) { return mix(hash_double(a.lambda), static_cast<std::size_t>(a.m)); }
std::size_t attrs_hash(const MaskAttrs& a) { return mix(hash_double(a.keep_prob), static_cast<std::size_t>(a.seed)); }
std::size_t attrs_hash(const DropoutAttrs& a) { return hash_double(a.keep_prob); }
std::size_t attrs_hash(const HyperAttrs& a) {
  std::size_t h = 0;
  for (double d : {a.beta1, a.beta2, a.epsilon, a.weight_decay}) h = mix(h, hash_double(d));
  return h;
}
std::size_t attrs_hash(const UpdateAttrs& a) {
  return mix(attrs_hash(a.hyper), std::hash<const void*>{}(a.rule));
}
std::size_t attrs_hash(const BucketAttrs& a) { return static_cast<std::size_t>(a.offset); }
std::size_t attrs_hash(const FusedNetAttrs& a) {
  return mix(std::hash<const void*>{}(a.net.get()), static_cast<std::size_t>(a.stage));
}

std::size_t structural_hash(const Node& n) {
  std::size_t h = static_cast<std::size_t>(n.op);
  for (NodeId i : n.inputs) h = mix(h, i);
  h = mix(h, n.attrs.index());
  h = mix(h, std::visit([](const auto& a) { return attrs_hash(a); }, n.attrs.variant()));
  h = mix(h, static_cast<std::size_t>(n.shape.rows));
  return mix(h, static_cast<std::size_t>(n.shape.cols));
}

bool is_leaf_with_identity(OpKind op) {
  return op == OpKind::input || op == OpKind::param || op == OpKind::state;
}

// "matmul node", the subject of a size error, made once per op rather than
// formatted on every add.
std::string_view node_what(OpKind op) {
  static const std::array<std::string, op_count> what = [] {
    std::array<std::string, op_count> w;
    for (int k = 0; k < op_count; ++k)
      w[std::size_t(k)] = fmt::format("{} node", ops::op_def(static_cast<OpKind>(k)).name);
    return w;
  }();
  return what[static_cast<std::size_t>(op)];
}

// The attributes of kind `index` with their defaults.
template <std::size_t... I>
Attrs default_attrs(std::size_t index, std::index_sequence<I...>) {
  static const std::array<Attrs, sizeof...(I)> all{Attrs(std::variant_alternative_t<I, AttrsVariant>{})...};
  return all[index];
}
Attrs default_attrs(std::size_t index) {
  return default_attrs(index, std::make_index_sequence<std::variant_size_v<AttrsVariant>>());
}

}  // namespace

const Node& Expr::node() const { return graph->node(id); }
Shape Expr::shape() const { return node().shape; }
const std::string& Expr::name() const { return node().name; }
Expr Expr::named(std::string n) const {
  graph->set_name(id, std::move(n));
  return *this;
}

Graph::Graph(DType dtype) : dtype_(dtype), impl_(std::make_unique<Impl>()) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::Graph(const Graph& o)
    : dtype_(o.dtype_), role_(o.role_), layer_(o.layer_),
      nodes_(o.nodes_), impl_(std::make_unique<Impl>(*o.impl_)) {}
Graph& Graph::operator=(const Graph& o) {
  if (this != &o) *this = Graph(o);
  return *this;
}

// check_id's error, out of line so that the check itself inlines (node() is
// called hundreds of thousands of times while a deep net compiles).
void Graph::unknown_node(NodeId id) const {
  throw GraphError(fmt::format("unknown node %{} (the graph has {} nodes)", id, size()));
}

void Graph::set_name(NodeId id, std::string name) {
  check_id(id);
  const std::size_t h = name.empty() ? 0 : name_hash(name);  // hashed once: a deep net names thousands
  if (!name.empty()) {
    const std::optional<NodeId> owner =
        impl_->by_name.find(h, [&](NodeId other) { return nodes_[other].name == name; });
    if (owner && *owner != id)
      throw GraphError(fmt::format("name '{}' is already used by node %{}", name, *owner));
    if (owner) return;  // already this node's name
  }
  Node& n = nodes_[id];
  if (!n.name.empty()) impl_->by_name.erase(name_hash(n.name), id);
  if (!name.empty()) impl_->by_name.insert(h, id);
  n.name = std::move(name);
}

std::optional<NodeId> Graph::find(std::string_view name) const {
  return impl_->by_name.find(name_hash(name),
                             [&](NodeId id) { return nodes_[id].name == name; });
}

void Graph::reserve(std::size_t nodes) {
  impl_->consumers.reserve(nodes, 2 * nodes);  // most nodes have one or two operands
  impl_->by_hash.reserve(nodes);
  impl_->by_name.reserve(nodes / 2);  // Z1, A1, dZ1, ...: about half the nodes of a model
}

namespace {

// Calls f(c) for each distinct consumer c of `id`, in increasing id order.
// NOTE: no sort is needed: an edge is added when its consumer is inserted,
// and ids only grow, so each chain already lists its consumers in id order
// (a node that reads an operand twice adds two adjacent edges).
template <class F>
void for_each_consumer(const Edges& c, NodeId id, F f) {
  NodeId last = Edges::none;
  for (NodeId e = c.first[id]; e != Edges::none; e = c.next[e])
    if (c.target[e] != last) f(last = c.target[e]);
}

}  // namespace

std::vector<NodeId> Graph::consumers(NodeId id) const {
  std::vector<NodeId> out;
  for_each_consumer(impl_->consumers, check_id(id), [&](NodeId c) { out.push_back(c); });
  return out;
}

namespace {

// An unnamed node is named by what it computes from the user's names, two
// levels deep ("add(matmul(W2, A1), b2)"), then by its id ("%17 (add)").
std::string describe_within(const Graph& g, NodeId id, int depth) {
  const Node& n = g.node(id);
  if (!n.name.empty()) return n.name;
  if (depth == 0 || n.inputs.empty()) return fmt::format("%{} ({})", id, ops::op_def(n.op).name);
  std::vector<std::string> args;
  for (NodeId in : n.inputs) args.push_back(describe_within(g, in, depth - 1));
  return fmt::format("{}({})", ops::op_def(n.op).name, fmt::join(args, ", "));
}

}  // namespace

std::string Graph::describe(NodeId id) const { return describe_within(*this, id, 2); }

NodeId Graph::insert(Node&& n) {
  const auto id = static_cast<NodeId>(nodes_.size());
  impl_->consumers.add_node();
  for (NodeId in : n.inputs) impl_->consumers.add(in, id);
  std::string name = std::move(n.name);
  nodes_.push_back(std::move(n));
  if (!name.empty()) set_name(id, std::move(name));
  return id;
}

Expr Graph::input(std::string name, Shape shape) {
  if (name.empty()) throw GraphError("an input needs a name");
  Expr e = add(OpKind::input, {}, {}, shape);
  set_name(e.id, std::move(name));
  return e;
}

Expr Graph::param(std::string name, Shape shape) {
  if (name.empty()) throw GraphError("a parameter needs a name");
  Expr e = add(OpKind::param, {}, {}, shape);
  set_name(e.id, std::move(name));
  return e;
}

Expr Graph::state(std::string name, Shape shape) {
  if (name.empty()) throw GraphError("a state value needs a name");
  Expr e = add(OpKind::state, {}, {}, shape);
  set_name(e.id, std::move(name));
  return e;
}

Expr Graph::constant(double value, Shape shape) {
  return add(OpKind::constant, {}, ConstantAttrs{value}, shape);
}

Expr Graph::add(OpKind op, std::vector<NodeId> inputs, const Attrs& attrs, Shape given) {
  const ops::OpDef& def = ops::op_def(op);
  for (NodeId in : inputs) check_id(in);
  if (def.arity >= 0 && static_cast<int>(inputs.size()) != def.arity)
    throw GraphError(fmt::format("{} takes {} operands, got {}", def.name, def.arity,
                                 inputs.size()));
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  // A node given no attributes carries its op's type with its defaults.
  const std::size_t kind = def.attrs;  // ops::attrs_kind(op), without a second look-up
  if (attrs.index() == kind) n.attrs = attrs;
  else if (attrs.is<NoAttrs>()) n.attrs = default_attrs(kind);
  else
    throw GraphError(fmt::format("{} is given {} attributes; its op takes {} attributes",
                                 node_what(op), attrs_name(attrs.index()), attrs_name(kind)));
  n.dtype = dtype_;
  n.shape = def.shape(ops::ShapeCall{*this, op, n.inputs, n.attrs, given});
  checked_bytes(n.shape, dtype_, node_what(op));
  n.role = op == OpKind::input ? Role::input
           : op == OpKind::param ? Role::param
           : op == OpKind::state ? Role::state
           : op == OpKind::constant ? Role::constant
                                    : role_;
  n.layer = layer_;

  // Inputs and parameters are never merged, and so never entered: all the
  // (16x16) weights of a deep net share one structural hash, and probing
  // past a thousand of them on every insert would be quadratic.
  if (is_leaf_with_identity(op)) return Expr{this, insert(std::move(n))};
  const std::size_t h = structural_hash(n);
  const auto same = impl_->by_hash.find(h, [&](NodeId id) {
    const Node& old = nodes_[id];
    return old.op == n.op && old.inputs == n.inputs && old.attrs == n.attrs &&
           old.shape == n.shape;
  });
  if (same) return Expr{this, *same};
  const NodeId id = insert(std::move(n));
  impl_->by_hash.insert(h, id);
  return Expr{this, id};
}

Graph Graph::subgraph(std::span<const NodeId> order, std::vector<NodeId>& map) const {
  constexpr NodeId left_out = ~NodeId{0};
  map.assign(size(), left_out);
  Graph out(dtype_);
  out.reserve(order.size());
  for (NodeId old : order) {
    Node n = node(old);
    if (map[old] != left_out) throw GraphError(fmt::format("subgraph: {} is listed twice", describe(old)));
    for (NodeId& in : n.inputs) {
      if (map[in] == left_out)
        throw GraphError(fmt::format("subgraph: {} is listed before its operand {}, or without it",
                                     describe(old), describe(in)));
      in = map[in];
    }
    const bool merges = !is_leaf_with_identity(n.op);
    const NodeId id = out.insert(std::move(n));
    if (merges) out.impl_->by_hash.insert(structural_hash(out.nodes_[id]), id);
    map[old] = id;
  }
  return out;
}

namespace {

// All of `g`'s vertices in topological order. Boost's topological_sort emits
// vertices in reverse topological order (each vertex after all of its
// consumers). With operand -> consumer edges that is already the backward
// order; reversed, it is the forward order.
std::vector<NodeId> forward_order(const Forward& g) {
  std::vector<NodeId> order;
  order.reserve(num_vertices(g));
  std::vector<boost::default_color_type> color(num_vertices(g), boost::white_color);
  try {
    boost::topological_sort(
        g, std::back_inserter(order),
        boost::color_map(boost::make_iterator_property_map(color.begin(), boost::identity_property_map())));
  } catch (const boost::not_a_dag&) {
    throw GraphError("the graph has a cycle");
  }
  std::reverse(order.begin(), order.end());
  return order;
}

// Marks every vertex reachable from `starts` in a view with a breadth-first
// search: descendants in Forward, ancestors in Backward.
template <class View>
std::vector<bool> reachable(const View& g, std::span<const NodeId> starts) {
  const std::size_t n = num_vertices(g);
  std::vector<boost::default_color_type> color(n, boost::white_color);
  auto color_map = boost::make_iterator_property_map(color.begin(), boost::identity_property_map());
  boost::queue<NodeId> queue;
  for (NodeId s : starts) {
    if (color[s] != boost::white_color) continue;
    boost::breadth_first_visit(g, s, queue, boost::default_bfs_visitor(), color_map);
  }
  std::vector<bool> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = color[i] != boost::white_color;
  return out;
}

}  // namespace

std::vector<NodeId> Graph::topological_order() const {
  return forward_order(Forward{&impl_->consumers});
}

std::vector<bool> Graph::ancestors_of(std::span<const NodeId> targets) const {
  for (NodeId t : targets) check_id(t);
  return reachable(Backward{&nodes_}, targets);
}

std::vector<bool> Graph::descendants_of(std::span<const NodeId> sources) const {
  for (NodeId s : sources) check_id(s);
  return reachable(Forward{&impl_->consumers}, sources);
}

std::vector<std::pair<NodeId, NodeId>> Graph::write_constraints(
    const std::vector<bool>& needed) const {
  std::vector<std::pair<NodeId, NodeId>> before;  // (reader, writer)
  std::vector<NodeId> writer_of(size(), no_writer);
  for (NodeId u = 0; u < size(); ++u) {
    if (!needed[u]) continue;
    const Node& n = nodes_[u];
    const ops::OpDef& def = ops::op_def(n.op);
    if (def.writes == 0 && !def.writes_first) continue;  // most nodes: one look-up, not one per operand
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      if (!ops::writes_operand(n, k)) continue;
      const NodeId target = n.inputs[k];
      if (writer_of[target] != no_writer && writer_of[target] != u)
        throw GraphError(fmt::format("{} is written by both {} and {}", describe(target),
                                     describe(writer_of[target]), describe(u)));
      writer_of[target] = u;
      for_each_consumer(impl_->consumers, target, [&](NodeId reader) {
        if (reader != u && needed[reader]) before.emplace_back(reader, u);
      });
    }
  }
  return before;
}

namespace {

// The order with the placement hints of the ops applied (OpDef::placement):
// a list schedule that takes, among the nodes whose operands and
// reader-before-writer constraints are met, an early node (a bucket's
// start) first, a late one (its wait) only when nothing else is ready, and
// otherwise the node that came first in `order`. Without hints it gives
// `order` back unchanged.
std::vector<NodeId> with_placements(const Graph& g, const std::vector<NodeId>& order,
                                    const std::vector<std::pair<NodeId, NodeId>>& before) {
  std::vector<std::size_t> pos(g.size(), 0);
  std::vector<std::vector<NodeId>> next(g.size());  // extra successors: writers
  std::vector<int> waiting(g.size(), 0);
  for (std::size_t k = 0; k < order.size(); ++k) pos[order[k]] = k;
  std::vector<bool> in_order(g.size(), false);
  for (NodeId id : order) in_order[id] = true;
  for (NodeId id : order) {  // distinct operands: consumers() lists a reader once
    std::vector<NodeId> ins = g.node(id).inputs;
    std::sort(ins.begin(), ins.end());
    ins.erase(std::unique(ins.begin(), ins.end()), ins.end());
    for (NodeId in : ins) waiting[id] += in_order[in] ? 1 : 0;
  }
  for (const auto& [reader, writer] : before)
    if (in_order[reader] && in_order[writer]) {
      next[reader].push_back(writer);
      ++waiting[writer];
    }
  using Key = std::pair<int, std::size_t>;  // (placement, position in order)
  std::priority_queue<Key, std::vector<Key>, std::greater<>> ready;
  auto push = [&](NodeId id) { ready.emplace(ops::op_def(g.node(id).op).placement, pos[id]); };
  for (NodeId id : order)
    if (waiting[id] == 0) push(id);
  std::vector<NodeId> out;
  out.reserve(order.size());
  while (!ready.empty()) {
    const NodeId id = order[ready.top().second];
    ready.pop();
    out.push_back(id);
    for (NodeId c : g.consumers(id))
      if (in_order[c] && --waiting[c] == 0) push(c);
    for (NodeId w : next[id])
      if (--waiting[w] == 0) push(w);
  }
  return out;
}

}  // namespace

std::vector<NodeId> Graph::schedule(std::span<const NodeId> outputs) const {
  const std::vector<bool> needed = ancestors_of(outputs);
  const auto before = write_constraints(needed);
  std::vector<NodeId> order;
  if (before.empty()) {
    order = topological_order();
  } else {
    // A node that overwrites a leaf (an optimizer's update of W or v) runs
    // after every other reader of that leaf: extra edges reader -> writer in
    // a copy of the consumer chains, sorted by the same algorithm.
    Edges edges = impl_->consumers;
    for (const auto& [reader, writer] : before) edges.add(reader, writer);
    try {
      order = forward_order(Forward{&edges});
    } catch (const GraphError&) {
      for (const auto& [reader, writer] : before)
        if (descendants_of(std::array{writer})[reader])
          throw GraphError(fmt::format("{} reads the value {} writes, but must run before it",
                                       describe(reader), describe(writer)));
      throw;
    }
  }
  std::erase_if(order, [&](NodeId id) { return !needed[id]; });
  if (std::any_of(order.begin(), order.end(),
                  [&](NodeId id) { return ops::op_def(node(id).op).placement != 0; }))
    return with_placements(*this, order, before);
  return order;
}

Graph Graph::from_nodes(DType dtype, std::vector<Node> nodes) {
  const auto count = nodes.size();
  for (std::size_t i = 0; i < count; ++i)
    for (NodeId in : nodes[i].inputs)
      if (in >= count)
        throw GraphError(fmt::format("node %{} ({}) has a dangling edge to %{} (the graph "
                                     "has {} nodes)",
                                     i, nodes[i].name, in, count));
  // The file's edges, for the cycle check and the order.
  Edges scratch;
  for (std::size_t i = 0; i < count; ++i) scratch.add_node();
  for (std::size_t i = 0; i < count; ++i)
    for (NodeId in : nodes[i].inputs) scratch.add(in, static_cast<NodeId>(i));
  std::vector<NodeId> order = forward_order(Forward{&scratch});
  // Keep the given order when it is already topological (every operand
  // before its consumer, as save() writes it): ids then survive a
  // save -> load -> save round trip and the file's bytes do too.
  bool ordered = true;
  for (std::size_t i = 0; i < count; ++i)
    for (NodeId in : nodes[i].inputs) ordered = ordered && in < i;
  if (ordered) std::iota(order.begin(), order.end(), NodeId{0});

  // Re-insert in topological order so every operand exists before its use,
  // re-running the shape rules on the way.
  Graph g(dtype);
  g.reserve(count);
  std::vector<NodeId> remap(count);
  for (NodeId old : order) {
    Node& n = nodes[old];
    std::vector<NodeId> ins;
    for (NodeId in : n.inputs) ins.push_back(remap[in]);
    BuildScope scope(g, n.role, n.layer);
    Expr e = g.add(n.op, std::move(ins), n.attrs, n.shape);
    if (e.shape() != n.shape)
      throw ShapeError(fmt::format("node %{} ({}): recorded shape {} but its operands give {}",
                                   old, n.name, to_string(n.shape), to_string(e.shape())));
    if (!n.name.empty()) g.set_name(e.id, n.name);
    remap[old] = e.id;
  }
  return g;
}

BuildScope::BuildScope(Graph& g, Role r, int layer)
    : g_(g), saved_role_(g.current_role()), saved_layer_(g.current_layer()) {
  g_.set_current_role(r);
  g_.set_current_layer(layer);
}

BuildScope::~BuildScope() {
  g_.set_current_role(saved_role_);
  g_.set_current_layer(saved_layer_);
}

}  // namespace dagrad
