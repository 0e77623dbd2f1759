#include "dagrad/runtime/executor.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include <cblas.h>
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/gemm_progress.hpp"

namespace dagrad::runtime {

namespace {

int g_threads = 1;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

bool is_bound_leaf(OpKind op) {
  return op == OpKind::input || op == OpKind::param || op == OpKind::state;
}

// Whether a node needs m: a shape with m, a scale with a power of m, or an
// L2 penalty over the bound sample count.
bool uses_m(const Node& n) {
  return n.shape.symbolic() || n.attrs.scale_factor().m_pow != 0 ||
         (n.op == OpKind::l2_penalty && n.attr<L2Attrs>().m == m_dim);
}

template <class T>
void check_finite(const Graph& g, NodeId id, const ops::Buffer& out,
                  std::span<const ops::Buffer> in) {
  const T* p = out.as<T>();
  for (std::int64_t i = 0; i < out.shape.size(); ++i) {
    if (std::isfinite(p[i])) continue;
    std::string ranges;
    for (std::size_t k = 0; k < in.size(); ++k) {
      const T* q = in[k].as<T>();
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (std::int64_t j = 0; j < in[k].shape.size(); ++j) {
        lo = std::min(lo, double(q[j]));
        hi = std::max(hi, double(q[j]));
      }
      ranges += fmt::format("; input {} {} in [{:g}, {:g}]", k,
                            g.describe(g.node(id).inputs[k]), lo, hi);
    }
    throw NumericError(fmt::format("{} {} produced {} at ({}, {}){}",
                                   ops::op_def(g.node(id).op).name, g.describe(id),
                                   double(p[i]), i / out.shape.cols, i % out.shape.cols,
                                   ranges));
  }
}

}  // namespace

struct Executor::Impl {
  std::vector<NodeId> outputs;
  std::vector<NodeId> schedule;              // m-independent
  PlanOptions plan_options;
  MemoryPlan plan;                           // for `capacity` samples
  bool symbolic = false;                     // some scheduled node needs m
  std::int64_t capacity = 0, m = 0;
  int plans = 0;
  std::vector<ops::Buffer> buffers;          // per node id; shapes of the current m
  std::vector<bool> bound, writable;         // per node id, for leaves
  std::vector<bool> readable;                // per node id: value() may read it
  std::vector<bool> scheduled;               // per node id
  std::vector<NodeId> symbolic_leaves;       // scheduled leaves whose shape holds m
  std::vector<NodeId> written;               // leaves some scheduled node overwrites
  std::vector<NodeId> leaves;                // the scheduled bound leaves, in schedule order
  std::vector<bool> leaf_step;               // per scheduled step: is it a bound leaf (run skips it)
  std::unique_ptr<std::byte, FreeDeleter> arena;
  // Per scheduled step: the operand buffers, gathered at plan time and
  // refreshed when a leaf is bound or m changes.
  std::vector<std::vector<ops::Buffer>> operands;
  // Per scheduled step: its kernel's scratch in the arena (OpDef::workspace), or empty.
  std::vector<std::span<std::byte>> workspaces;
  // Per bound leaf: the (step, operand slot) pairs that read it, and the
  // steps whose own value is that leaf's memory (assign and the updates).
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> leaf_readers;
  std::vector<std::vector<NodeId>> leaf_aliases;

  void place(const Graph& g, std::int64_t cap);
  void set_m(const Graph& g, std::int64_t new_m);
  void refresh_operands(const Graph& g);
  std::int64_t bound_m(const Graph& g, const RunOptions& o) const;
};

// Plans the arena for `cap` samples and points every computed value into it.
void Executor::Impl::place(const Graph& g, std::int64_t cap) {
  plan = plan_memory(g, outputs, schedule, plan_options, symbolic ? cap : 0);
  capacity = symbolic ? cap : 0;
  ++plans;
  const std::size_t bytes = round_up_to_alignment(std::max<std::size_t>(plan.arena_bytes, arena_alignment));
  arena.reset(static_cast<std::byte*>(std::aligned_alloc(arena_alignment, bytes)));
  if (!arena) throw InputError(fmt::format("cannot allocate {} bytes for the plan", bytes));
  workspaces.assign(plan.values.size(), {});
  for (std::size_t s = 0; s < plan.values.size(); ++s) {
    const PlannedValue& v = plan.values[s];
    if (v.group != no_slot) buffers[v.id].data = arena.get() + plan.groups[v.group].offset;
    if (v.workspace != no_slot) {
      const SlotGroup& w = plan.groups[v.workspace];
      workspaces[s] = {arena.get() + w.offset, w.bytes};
    }
  }
}

// Gives every scheduled node its shape for `new_m` samples.
void Executor::Impl::set_m(const Graph& g, std::int64_t new_m) {
  m = new_m;
  for (NodeId id : schedule) {
    const Node& n = g.node(id);
    if (!is_bound_leaf(n.op)) buffers[id].shape = n.shape.at(m);
  }
  refresh_operands(g);
}

void Executor::Impl::refresh_operands(const Graph& g) {
  for (std::size_t s = 0; s < schedule.size(); ++s) {
    const Node& n = g.node(schedule[s]);
    for (std::size_t k = 0; k < n.inputs.size(); ++k) operands[s][k] = buffers[n.inputs[k]];
  }
}

// m as the bound leaves give it; they must agree.
std::int64_t Executor::Impl::bound_m(const Graph& g, const RunOptions& o) const {
  std::int64_t found = -1;
  NodeId from = 0;
  for (NodeId leaf : symbolic_leaves) {
    if (!bound[leaf]) continue;
    const Shape declared = g.node(leaf).shape, s = buffers[leaf].shape;
    const std::int64_t here = declared.cols == m_dim ? s.cols : s.rows;
    if (found != -1 && here != found)
      throw InputError(fmt::format("run: {} is bound with {} samples {} but {} with {} {}",
                                   g.describe(from), found, to_string(buffers[from].shape),
                                   g.describe(leaf), here, to_string(s)));
    found = here;
    from = leaf;
  }
  if (found == -1 && !o.samples.empty()) found = static_cast<std::int64_t>(o.samples.size());
  if (found == -1)
    throw InputError("run: the graph's shapes hold the sample count m, but no input with m "
                     "columns is bound, so m is unknown");
  if (found == 0 && o.batch == 0)
    throw InputError(fmt::format("run: {} is bound with no samples; a run needs at least one "
                                 "(or RunOptions::batch, in a process that holds none of a "
                                 "data-parallel batch)", g.describe(from)));
  return found;
}

Executor::Executor(const Graph& graph, std::vector<NodeId> outputs,
                   const ExecutorOptions& options)
    : graph_ptr_(&graph), impl_(std::make_unique<Impl>()) {
  Impl& p = *impl_;
  if (options.capacity < 0)
    throw InputError(fmt::format("executor: capacity {} must be >= 0", options.capacity));
  p.outputs = std::move(outputs);
  for (NodeId o : p.outputs)
    if (o >= graph.size())
      throw GraphError(fmt::format("executor: unknown output %{} (the graph has {} nodes)", o,
                                   graph.size()));
  p.plan_options = options.plan;
  p.schedule = graph.schedule(p.outputs);
  p.buffers.assign(graph.size(), ops::Buffer{});
  p.bound.assign(graph.size(), false);
  p.writable.assign(graph.size(), false);
  p.readable.assign(graph.size(), !options.plan.share);
  p.scheduled.assign(graph.size(), false);
  p.leaf_readers.resize(graph.size());
  p.leaf_aliases.resize(graph.size());
  for (NodeId o : p.outputs) p.readable[o] = true;
  std::vector<NodeId> alias_of(graph.size(), ~NodeId{0});  // the leaf a value's memory is
  for (std::size_t s = 0; s < p.schedule.size(); ++s) {
    const NodeId id = p.schedule[s];
    const Node& n = graph.node(id);
    p.scheduled[id] = true;
    const bool bound_leaf = is_bound_leaf(n.op);
    p.leaf_step.push_back(bound_leaf);
    p.symbolic = p.symbolic || uses_m(n);
    if (bound_leaf) {
      p.leaves.push_back(id);
      alias_of[id] = id;
      p.readable[id] = true;
      p.buffers[id].shape = n.shape.at(1);
      if (n.shape.symbolic()) p.symbolic_leaves.push_back(id);
    }
    const auto& ins = n.inputs;
    p.operands.emplace_back(ins.size());
    for (std::size_t k = 0; k < ins.size(); ++k) {
      // A reader of a leaf, or of a node whose value is a leaf's memory.
      const NodeId leaf = alias_of[ins[k]];
      if (leaf != ~NodeId{0}) p.leaf_readers[leaf].emplace_back(s, k);
    }
    if (ops::op_def(n.op).writes != 0) {  // the value is operand 0's memory
      p.leaf_aliases[ins[0]].push_back(id);
      alias_of[id] = alias_of[ins[0]];
    }
    for (std::size_t k = 0; k < ins.size(); ++k)
      if (ops::writes_operand(n, k)) p.written.push_back(ins[k]);
  }
  // A graph without m is planned now; one with m for the capacity, now when
  // it is given, else at the first run.
  if (!p.symbolic || options.capacity > 0) {
    p.place(graph, options.capacity);
    p.set_m(graph, p.symbolic ? options.capacity : 0);
  }
}

namespace {
std::vector<NodeId> ids_of(const Graph& g, std::span<const Expr> es) {
  std::vector<NodeId> out;
  for (Expr e : es) {
    if (e.graph != &g) throw GraphError("executor: an output belongs to another graph");
    out.push_back(e.id);
  }
  return out;
}
}  // namespace

Executor::Executor(const Graph& graph, std::span<const Expr> outputs,
                   const ExecutorOptions& options)
    : Executor(graph, ids_of(graph, outputs), options) {}
Executor::Executor(const Graph& graph, std::initializer_list<Expr> outputs,
                   const ExecutorOptions& options)
    : Executor(graph, ids_of(graph, std::span<const Expr>(outputs.begin(), outputs.size())),
               options) {}

Executor::~Executor() = default;
Executor::Executor(Executor&&) noexcept = default;
Executor& Executor::operator=(Executor&&) noexcept = default;

NodeId Executor::id_of(Expr e) const {
  if (!e.valid()) throw GraphError("executor: an empty expression");
  if (e.graph != graph_ptr_) throw GraphError("executor: the expression belongs to another graph");
  return e.id;
}

Shape Executor::fixed_shape(NodeId leaf) const {
  const Graph& g = *graph_ptr_;
  if (leaf >= g.size()) throw InputError(fmt::format("bind: unknown node %{}", leaf));
  const Shape s = g.node(leaf).shape;
  if (s.symbolic())
    throw InputError(fmt::format("bind {}: its shape {} holds the sample count m, so give the "
                                 "shape of the data bound to it",
                                 g.describe(leaf), to_string(s)));
  return s;
}

void Executor::bind_raw(NodeId leaf, const void* data, Shape shape, DType dtype, bool writable) {
  Impl& p = *impl_;
  const Graph& graph_ = *graph_ptr_;
  if (leaf >= graph_.size())
    throw InputError(fmt::format("bind: unknown node %{}", leaf));
  const Node& n = graph_.node(leaf);
  if (!is_bound_leaf(n.op))
    throw InputError(fmt::format("bind: {} is a {} node, not an input, parameter or state",
                                 graph_.describe(leaf), ops::op_def(n.op).name));
  // m binds to any positive count, the same one where both dimensions are m.
  const Shape d = n.shape;
  // NOTE: m = 0 is bound too (a process holding none of a data-parallel
  // batch); run() refuses it unless RunOptions::batch says how many the
  // batch has.
  const std::int64_t m = d.cols == m_dim ? shape.cols : d.rows == m_dim ? shape.rows : 0;
  if (m < 0 || shape != d.at(m))
    throw InputError(fmt::format("bind {}: fed shape {} but the graph declares {}",
                                 graph_.describe(leaf), to_string(shape), to_string(n.shape)));
  if (dtype != n.dtype)
    throw InputError(fmt::format("bind {}: fed {} data but the graph is {}",
                                 graph_.describe(leaf), dtype_name(dtype), dtype_name(n.dtype)));
  if (data == nullptr && shape.size() > 0)  // an empty (n x 0) batch may have no memory
    throw InputError(fmt::format("bind {}: null data", graph_.describe(leaf)));
  p.buffers[leaf] = ops::Buffer{const_cast<void*>(data), shape};
  p.bound[leaf] = true;
  p.writable[leaf] = writable;
  // Refresh the nodes whose value is this leaf's memory, and the operand
  // lists that read the leaf or one of them.
  for (NodeId alias : p.leaf_aliases[leaf]) {
    p.buffers[alias].data = p.buffers[leaf].data;
    p.buffers[alias].shape = shape;
  }
  for (const auto& [step, slot] : p.leaf_readers[leaf]) {
    const NodeId in = graph_.node(p.schedule[step]).inputs[slot];
    p.operands[step][slot] = p.buffers[in];
  }
}

void Executor::bind(Leaf leaf, const Tensor& t) {
  bind_raw(id_of(leaf), t.raw(), t.shape(), t.dtype(), false);
}
void Executor::bind(Leaf leaf, Tensor& t) {
  bind_raw(id_of(leaf), t.raw(), t.shape(), t.dtype(), true);
}

NodeId Executor::id_of(const Leaf& leaf) const {
  if (leaf.by_expr_) return id_of(leaf.expr_);
  if (leaf.name_.data() == nullptr) return leaf.id_;
  auto id = graph_ptr_->find(leaf.name_);
  if (!id) throw InputError(fmt::format("bind: the graph has no node named '{}'", leaf.name_));
  return *id;
}

void Executor::run(const RunOptions& options) { run(options, {}); }

void Executor::run(const RunOptions& options, std::span<double> step_seconds) {
  Impl& p = *impl_;
  const Graph& graph_ = *graph_ptr_;
  const bool timed = !step_seconds.empty();
  if (timed && step_seconds.size() != p.schedule.size())
    throw GraphError(fmt::format("run: {} step timers for {} steps", step_seconds.size(),
                                 p.schedule.size()));
  for (NodeId id : p.leaves) {
    if (p.bound[id]) continue;
    const Node& n = graph_.node(id);
    throw InputError(fmt::format("run: {} {} {} was never bound", ops::op_def(n.op).name,
                                 graph_.describe(id), to_string(n.shape)));
  }
  for (NodeId leaf : p.written)
    if (!p.writable[leaf])
      throw InputError(fmt::format("run: this plan updates {}, but it was bound read-only: bind "
                                   "it with a mutable pointer or Tensor",
                                   graph_.describe(leaf)));
  if (p.symbolic) {
    const std::int64_t m = p.bound_m(graph_, options);
    const bool moved = m > p.capacity;
    if (moved) p.place(graph_, m);  // more samples than planned for: plan again
    if (moved || m != p.m) p.set_m(graph_, m);
  }
  if (!options.samples.empty() && p.symbolic &&
      static_cast<std::int64_t>(options.samples.size()) != p.m)
    throw InputError(fmt::format("run: {} sample indices for m = {} samples",
                                 options.samples.size(), p.m));
  if (options.batch != 0 && options.batch < std::max<std::int64_t>(p.m, 1))
    throw InputError(fmt::format("run: a batch of {} samples cannot hold the {} bound here",
                                 options.batch, p.m));
  const ops::RunContext ctx{options.training, options.step,    g_threads,
                            p.m,              options.samples, options.batch,
                            options.collectives};
  // ... and between the panels of a long GEMM (ops/gemm_progress.hpp).
  const ops::GemmProgress panels(options.collectives);
  for (std::size_t s = 0; s < p.schedule.size(); ++s) {
    if (p.leaf_step[s]) continue;
    const NodeId id = p.schedule[s];
    const Node& n = graph_.node(id);
    // A started bucket's transfer moves only inside MPI calls: one cheap
    // test per kernel lets it advance while the backward pass runs.
    if (ctx.collectives) ctx.collectives->progress();
    const ops::OpDef& def = ops::op_def(n.op);
    const ops::Kernel k = n.dtype == DType::f32 ? def.f32 : def.f64;
    const auto t0 = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    k(ops::KernelCall{graph_, id, n, p.operands[s], p.buffers[id], ctx, p.workspaces[s]});
    if (timed)
      step_seconds[s] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (options.check_numerics) {
      if (n.dtype == DType::f32) check_finite<float>(graph_, id, p.buffers[id], p.operands[s]);
      else check_finite<double>(graph_, id, p.buffers[id], p.operands[s]);
    }
  }
}

ops::Buffer Executor::value(NodeId id) const {
  const Graph& graph_ = *graph_ptr_;
  if (id >= graph_.size())
    throw GraphError(fmt::format("value: unknown node %{} (the graph has {} nodes)", id,
                                 graph_.size()));
  if (!impl_->scheduled[id] || !impl_->readable[id] || impl_->buffers[id].data == nullptr) {
    if (impl_->scheduled[id] && !impl_->readable[id])
      throw GraphError(fmt::format("value: {} is not an output of this plan, so its buffer is "
                                   "reused by later nodes; list it among the outputs",
                                   graph_.describe(id)));
    if (impl_->scheduled[id] && !is_bound_leaf(graph_.node(id).op))
      throw GraphError(fmt::format("value: {} has no value before the plan's first run",
                                   graph_.describe(id)));
    throw GraphError(fmt::format("value: {} is not part of this plan{}", graph_.describe(id),
                                 is_bound_leaf(graph_.node(id).op) ? " or was never bound" : ""));
  }
  return impl_->buffers[id];
}

void Executor::check_dtype(NodeId id, DType want) const {
  const Graph& g = *graph_ptr_;
  if (id >= g.size())
    throw GraphError(fmt::format("values: unknown node %{} (the graph has {} nodes)", id, g.size()));
  if (g.node(id).dtype != want)
    throw GraphError(fmt::format("values<{}>: {} holds {} values", want == DType::f32 ? "float" : "double",
                                 g.describe(id), dtype_name(g.node(id).dtype)));
}

double Executor::scalar(NodeId id) const {
  const Graph& graph_ = *graph_ptr_;
  const ops::Buffer b = value(id);
  if (!b.shape.is_scalar())
    throw GraphError(fmt::format("scalar: {} has shape {}", graph_.describe(id), to_string(b.shape)));
  return graph_.node(id).dtype == DType::f32 ? double(*b.as<float>()) : *b.as<double>();
}

std::span<const NodeId> Executor::schedule() const { return impl_->schedule; }
std::size_t Executor::arena_bytes() const { return impl_->plan.arena_bytes; }
const MemoryPlan& Executor::plan() const { return impl_->plan; }
std::int64_t Executor::samples() const { return impl_->m; }
std::int64_t Executor::capacity() const { return impl_->capacity; }
int Executor::replans() const { return std::max(0, impl_->plans - 1); }

void set_threads(int threads) {
  if (threads < 1) throw InputError(fmt::format("--threads {} must be at least 1", threads));
  g_threads = threads;
  openblas_set_num_threads(threads);
}

int threads() { return g_threads; }

}  // namespace dagrad::runtime
