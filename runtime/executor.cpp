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
#include "dagrad/ops/gemm_planner.hpp"

namespace dagrad::runtime {

namespace {

int g_threads = 1;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

constexpr std::size_t alignment = 64;

std::size_t round_up(std::size_t n) { return (n + alignment - 1) / alignment * alignment; }

bool is_bound_leaf(OpKind op) { return op == OpKind::input || op == OpKind::param; }

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
  MemoryPlan plan;
  std::vector<ops::Buffer> buffers;          // per node id; data null when unscheduled
  std::vector<bool> bound;                   // per node id, for leaves
  std::vector<bool> readable;                // per node id: value() may read it
  std::vector<bool> scheduled;               // per node id
  std::unique_ptr<std::byte, FreeDeleter> arena;
  // Per scheduled step: the operand buffers, gathered once at plan time.
  std::vector<std::vector<ops::Buffer>> operands;
  // Per bound leaf: the (step, operand slot) pairs that read it, so that
  // bind() refreshes them without scanning the schedule.
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> leaf_readers;
};

Executor::Executor(const Graph& graph, std::vector<NodeId> outputs,
                   const ExecutorOptions& options)
    : graph_ptr_(&graph), impl_(std::make_unique<Impl>()) {
  Impl& p = *impl_;
  p.outputs = std::move(outputs);
  p.plan = plan_memory(graph, p.outputs, options.plan);
  p.buffers.assign(graph.size(), ops::Buffer{});
  p.bound.assign(graph.size(), false);
  p.readable.assign(graph.size(), !options.plan.share);
  p.scheduled.assign(graph.size(), false);
  for (NodeId id : p.plan.schedule) p.scheduled[id] = true;
  for (NodeId o : p.outputs) p.readable[o] = true;

  const std::size_t bytes = round_up(std::max<std::size_t>(p.plan.arena_bytes, alignment));
  p.arena.reset(static_cast<std::byte*>(std::aligned_alloc(alignment, bytes)));
  if (!p.arena) throw Error(fmt::format("cannot allocate {} bytes for the plan", bytes));
  for (const PlannedValue& v : p.plan.values) {
    p.buffers[v.id].shape = graph.node(v.id).shape;
    if (v.group != no_slot) p.buffers[v.id].data = p.arena.get() + p.plan.groups[v.group].offset;
    if (is_bound_leaf(graph.node(v.id).op)) p.readable[v.id] = true;
  }
  p.leaf_readers.resize(graph.size());
  for (std::size_t s = 0; s < p.plan.schedule.size(); ++s) {
    std::vector<ops::Buffer> in;
    const auto& ins = graph.node(p.plan.schedule[s]).inputs;
    for (std::size_t k = 0; k < ins.size(); ++k) {
      in.push_back(p.buffers[ins[k]]);
      if (is_bound_leaf(graph.node(ins[k]).op)) p.leaf_readers[ins[k]].emplace_back(s, k);
    }
    p.operands.push_back(std::move(in));
  }
  // Each large GEMM shape picks its library now (timed once per process),
  // not in the middle of the first run.
  ops::plan_gemms(graph, p.plan.schedule);
}

Executor::~Executor() = default;
Executor::Executor(Executor&&) noexcept = default;
Executor& Executor::operator=(Executor&&) noexcept = default;


void Executor::bind_raw(NodeId leaf, const void* data, Shape shape, DType dtype) {
  Impl& p = *impl_;
  const Graph& graph_ = *graph_ptr_;
  if (leaf >= graph_.size())
    throw InputError(fmt::format("bind: unknown node %{}", leaf));
  const Node& n = graph_.node(leaf);
  if (!is_bound_leaf(n.op))
    throw InputError(fmt::format("bind: {} is a {} node, not an input or parameter",
                                 graph_.describe(leaf), ops::op_def(n.op).name));
  if (shape != n.shape)
    throw InputError(fmt::format("bind {}: fed shape {} but the graph declares {}",
                                 graph_.describe(leaf), to_string(shape), to_string(n.shape)));
  if (dtype != n.dtype)
    throw InputError(fmt::format("bind {}: fed {} data but the graph is {}",
                                 graph_.describe(leaf), dtype_name(dtype), dtype_name(n.dtype)));
  p.buffers[leaf].data = const_cast<void*>(data);
  p.bound[leaf] = true;
  // Refresh the operand lists that read this leaf.
  for (const auto& [step, slot] : p.leaf_readers[leaf]) p.operands[step][slot].data = p.buffers[leaf].data;
}

void Executor::bind(NodeId leaf, const float* data, Shape shape) {
  bind_raw(leaf, data, shape, DType::f32);
}
void Executor::bind(NodeId leaf, const double* data, Shape shape) {
  bind_raw(leaf, data, shape, DType::f64);
}

void Executor::bind(NodeId leaf, const Tensor& t) { bind_raw(leaf, t.raw(), t.shape(), t.dtype()); }

namespace {
NodeId find_leaf(const Graph& g, std::string_view name) {
  auto id = g.find(name);
  if (!id) throw InputError(fmt::format("bind: the graph has no node named '{}'", name));
  return *id;
}
}  // namespace

void Executor::bind(std::string_view name, const float* data, Shape shape) {
  bind(find_leaf(*graph_ptr_, name), data, shape);
}
void Executor::bind(std::string_view name, const double* data, Shape shape) {
  bind(find_leaf(*graph_ptr_, name), data, shape);
}

void Executor::run(const RunOptions& options) { run(options, {}); }

void Executor::run(const RunOptions& options, std::span<double> step_seconds) {
  Impl& p = *impl_;
  const Graph& graph_ = *graph_ptr_;
  const ops::RunContext ctx{options.training, options.step, g_threads};
  const bool timed = !step_seconds.empty();
  if (timed && step_seconds.size() != p.plan.schedule.size())
    throw GraphError(fmt::format("run: {} step timers for {} steps", step_seconds.size(),
                                 p.plan.schedule.size()));
  for (std::size_t s = 0; s < p.plan.schedule.size(); ++s) {
    const NodeId id = p.plan.schedule[s];
    const Node& n = graph_.node(id);
    if (is_bound_leaf(n.op)) {
      if (!p.bound[id])
        throw InputError(fmt::format("run: {} {} {} was never bound",
                                     n.op == OpKind::input ? "input" : "parameter",
                                     graph_.describe(id), to_string(n.shape)));
      continue;
    }
    const ops::OpDef& def = ops::op_def(n.op);
    const ops::Kernel k = n.dtype == DType::f32 ? def.f32 : def.f64;
    const auto t0 = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    k(ops::KernelCall{graph_, id, n, p.operands[s], p.buffers[id], ctx});
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
    throw GraphError(fmt::format("value: {} is not part of this plan{}", graph_.describe(id),
                                 is_bound_leaf(graph_.node(id).op) ? " or was never bound" : ""));
  }
  return impl_->buffers[id];
}

double Executor::scalar(NodeId id) const {
  const Graph& graph_ = *graph_ptr_;
  const ops::Buffer b = value(id);
  if (!b.shape.is_scalar())
    throw GraphError(fmt::format("scalar: {} has shape {}", graph_.describe(id), to_string(b.shape)));
  return graph_.node(id).dtype == DType::f32 ? double(*b.as<float>()) : *b.as<double>();
}

std::span<const NodeId> Executor::schedule() const { return impl_->plan.schedule; }
std::size_t Executor::arena_bytes() const { return impl_->plan.arena_bytes; }
const MemoryPlan& Executor::plan() const { return impl_->plan; }

void set_threads(int threads) {
  if (threads < 1) throw InputError(fmt::format("--threads {} must be at least 1", threads));
  g_threads = threads;
  openblas_set_num_threads(threads);
}

int threads() { return g_threads; }

}  // namespace dagrad::runtime
