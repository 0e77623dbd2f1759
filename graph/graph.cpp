#include "dagrad/graph/graph.hpp"

#include <array>
#include <algorithm>
#include <deque>
#include <iterator>
#include <numeric>
#include <unordered_map>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/graph/topological_sort.hpp>
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad {

// Edges run operand -> consumer. The Node bundle rides on each vertex; the
// vertex index is the NodeId.
using BoostGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Node>;

struct Graph::Impl {
  BoostGraph g;
  // Hash-consing: structural hash -> nodes with that hash.
  std::unordered_multimap<std::size_t, NodeId> by_hash;
  std::unordered_map<std::string, NodeId> by_name;
};

namespace {

std::size_t mix(std::size_t h, std::size_t v) {
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

std::size_t structural_hash(const Node& n) {
  std::size_t h = static_cast<std::size_t>(n.op);
  for (NodeId i : n.inputs) h = mix(h, i);
  const Attrs& a = n.attrs;
  for (double d : {a.value, a.scale, a.offset, a.slope, a.keep_prob, a.beta1, a.beta2, a.epsilon})
    h = mix(h, std::hash<double>{}(d));
  h = mix(h, static_cast<std::size_t>(a.m_pow + 128));
  h = mix(h, static_cast<std::size_t>(a.count));
  h = mix(h, static_cast<std::size_t>(a.seed));
  h = mix(h, static_cast<std::size_t>(a.axis + 2) | (a.keepdims << 3) | (a.trans_a << 4) |
                 (a.trans_b << 5));
  h = mix(h, static_cast<std::size_t>(n.shape.rows));
  return mix(h, static_cast<std::size_t>(n.shape.cols));
}

bool is_leaf_with_identity(OpKind op) {
  return op == OpKind::input || op == OpKind::param || op == OpKind::state;
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
      impl_(std::make_unique<Impl>(*o.impl_)) {}
Graph& Graph::operator=(const Graph& o) {
  if (this != &o) *this = Graph(o);
  return *this;
}

std::size_t Graph::size() const { return boost::num_vertices(impl_->g); }

NodeId Graph::check_id(NodeId id) const {
  if (id >= size())
    throw GraphError(fmt::format("unknown node %{} (the graph has {} nodes)", id, size()));
  return id;
}

const Node& Graph::node(NodeId id) const { return impl_->g[check_id(id)]; }

void Graph::set_name(NodeId id, std::string name) {
  check_id(id);
  Node& n = impl_->g[id];
  if (!n.name.empty()) {
    auto it = impl_->by_name.find(n.name);
    if (it != impl_->by_name.end() && it->second == id) impl_->by_name.erase(it);
  }
  if (!name.empty()) {
    auto [it, fresh] = impl_->by_name.emplace(name, id);
    if (!fresh && it->second != id)
      throw GraphError(fmt::format("name '{}' is already used by node %{}", name, it->second));
  }
  n.name = std::move(name);
}

std::optional<NodeId> Graph::find(std::string_view name) const {
  auto it = impl_->by_name.find(std::string(name));
  if (it == impl_->by_name.end()) return std::nullopt;
  return it->second;
}

std::vector<NodeId> Graph::consumers(NodeId id) const {
  std::vector<NodeId> out;
  for (auto [e, end] = boost::out_edges(check_id(id), impl_->g); e != end; ++e)
    out.push_back(static_cast<NodeId>(boost::target(*e, impl_->g)));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Graph::describe(NodeId id) const {
  const Node& n = node(id);
  if (!n.name.empty()) return n.name;
  return fmt::format("%{} ({})", id, ops::op_def(n.op).name);
}

NodeId Graph::insert(Node n) {
  const NodeId id = static_cast<NodeId>(boost::add_vertex(impl_->g));
  for (NodeId in : n.inputs) boost::add_edge(in, id, impl_->g);
  std::string name = std::move(n.name);
  impl_->g[id] = std::move(n);
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
  Attrs a;
  a.value = value;
  return add(OpKind::constant, {}, a, shape);
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
  n.attrs = attrs;
  n.dtype = dtype_;
  n.shape = def.shape(ops::ShapeCall{*this, op, n.inputs, n.attrs, given});
  checked_bytes(n.shape, dtype_, fmt::format("{} node", def.name));
  n.role = op == OpKind::input ? Role::input
           : op == OpKind::param ? Role::param
           : op == OpKind::state ? Role::state
           : op == OpKind::constant ? Role::constant
                                    : role_;
  n.layer = layer_;

  const std::size_t h = structural_hash(n);
  if (!is_leaf_with_identity(op)) {
    auto [first, last] = impl_->by_hash.equal_range(h);
    for (auto it = first; it != last; ++it) {
      const Node& old = impl_->g[it->second];
      if (old.op == n.op && old.inputs == n.inputs && old.attrs == n.attrs &&
          old.shape == n.shape)
        return Expr{this, it->second};
    }
  }
  const NodeId id = insert(std::move(n));
  impl_->by_hash.emplace(h, id);
  return Expr{this, id};
}

std::vector<NodeId> Graph::topological_order() const {
  // Boost's topological_sort emits vertices in reverse topological order
  // (each vertex after all of its consumers). With operand -> consumer edges
  // that is already the backward order; reversed, it is the forward order.
  std::vector<NodeId> order;
  order.reserve(size());
  try {
    boost::topological_sort(impl_->g, std::back_inserter(order));
  } catch (const boost::not_a_dag&) {
    throw GraphError("the graph has a cycle");
  }
  std::reverse(order.begin(), order.end());
  return order;
}

namespace {

// Marks every vertex reachable from `starts` in `g` (a BoostGraph or its
// reverse) with a breadth-first search.
template <class G>
std::vector<bool> reachable(const G& g, std::span<const NodeId> starts, std::size_t n) {
  std::vector<boost::default_color_type> color(n, boost::white_color);
  auto color_map = boost::make_iterator_property_map(
      color.begin(), boost::get(boost::vertex_index, g));
  boost::queue<typename boost::graph_traits<G>::vertex_descriptor> queue;
  for (NodeId s : starts) {
    if (color[s] != boost::white_color) continue;
    boost::breadth_first_visit(g, s, queue, boost::default_bfs_visitor(), color_map);
  }
  std::vector<bool> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = color[i] != boost::white_color;
  return out;
}

}  // namespace

std::vector<bool> Graph::ancestors_of(std::span<const NodeId> targets) const {
  for (NodeId t : targets) check_id(t);
  return reachable(boost::make_reverse_graph(impl_->g), targets, size());
}

std::vector<bool> Graph::descendants_of(std::span<const NodeId> sources) const {
  for (NodeId s : sources) check_id(s);
  return reachable(impl_->g, sources, size());
}

std::vector<std::pair<NodeId, NodeId>> Graph::write_constraints(
    const std::vector<bool>& needed) const {
  std::vector<std::pair<NodeId, NodeId>> before;  // (reader, writer)
  std::vector<NodeId> writer_of(size(), no_writer);
  for (NodeId u = 0; u < size(); ++u) {
    if (!needed[u]) continue;
    const Node& n = node(u);
    const unsigned writes = ops::op_def(n.op).writes;
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      if (!(writes & (1u << k))) continue;
      const NodeId target = n.inputs[k];
      if (writer_of[target] != no_writer && writer_of[target] != u)
        throw GraphError(fmt::format("{} is written by both {} and {}", describe(target),
                                     describe(writer_of[target]), describe(u)));
      writer_of[target] = u;
      for (NodeId reader : consumers(target))
        if (reader != u && needed[reader]) before.emplace_back(reader, u);
    }
  }
  return before;
}

std::vector<NodeId> Graph::schedule(std::span<const NodeId> outputs) const {
  const std::vector<bool> needed = ancestors_of(outputs);
  const auto before = write_constraints(needed);
  std::vector<NodeId> order;
  if (before.empty()) {
    order = topological_order();
  } else {
    // A node that overwrites a leaf (an optimizer's update of W or v) runs
    // after every other reader of that leaf: extra edges reader -> writer in
    // a copy of the graph, sorted by the same algorithm.
    BoostGraph g = impl_->g;
    for (const auto& [reader, writer] : before) boost::add_edge(reader, writer, g);
    try {
      boost::topological_sort(g, std::back_inserter(order));
    } catch (const boost::not_a_dag&) {
      for (const auto& [reader, writer] : before)
        if (descendants_of(std::array{writer})[reader])
          throw GraphError(fmt::format("{} reads the value {} writes, but must run before it",
                                       describe(reader), describe(writer)));
      throw GraphError("the graph has a cycle");
    }
    std::reverse(order.begin(), order.end());
  }
  std::erase_if(order, [&](NodeId id) { return !needed[id]; });
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
  // A scratch Boost graph of the file's edges, for the cycle check and order.
  BoostGraph scratch(count);
  for (std::size_t i = 0; i < count; ++i)
    for (NodeId in : nodes[i].inputs) boost::add_edge(in, i, scratch);
  std::vector<NodeId> order;
  try {
    boost::topological_sort(scratch, std::back_inserter(order));
  } catch (const boost::not_a_dag&) {
    throw GraphError("the graph has a cycle");
  }
  std::reverse(order.begin(), order.end());
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
