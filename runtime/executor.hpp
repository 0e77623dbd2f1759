// The executor compiles a graph and its requested outputs into a plan: the
// topological schedule of the outputs' ancestors, buffers placed in one arena
// allocated once by the memory planner (runtime/planner.hpp: values that are
// never live together share bytes; outputs persist), and a kernel per step.
// Inputs, parameters and optimizer state are bound to caller memory (no
// copy); run() executes the plan, and may be called any number of times
// without allocating.
//
// A graph whose shapes hold the symbolic sample count m runs for any m: each
// run takes m from the bound inputs (X bound as (n x 64) gives m = 64). The
// arena is planned for a capacity (ExecutorOptions::capacity, else the first
// run's m); a run with fewer samples uses the same buffers, and only a run
// with more samples than the capacity plans again (replans() counts it).
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/runtime/planner.hpp"
#include "dagrad/runtime/tensor.hpp"

namespace dagrad::runtime {

struct RunOptions {
  bool training = true;     // dropout active
  std::uint64_t step = 0;   // dropout RNG counter: same step, same masks
  bool check_numerics = false;  // stop at the first node that yields NaN/Inf
  // The data set index of each bound sample column (dropout masks are keyed
  // by it); empty: column j is sample j. Must outlive the run.
  std::span<const std::int64_t> samples = {};
  // Data-parallel runs (dist/): the global batch's sample count, which every
  // 1/m divides by while this process binds only its m columns of it (0: m).
  // With it an input may be bound with no columns at all: a process that
  // holds none of a batch still runs the plan (its sums are zero) and takes
  // part in every collective.
  std::int64_t batch = 0;
  ops::Collectives* collectives = nullptr;  // the allreduce nodes' sums; null: one process
};

struct ExecutorOptions {
  PlanOptions plan;  // plan.share = false keeps every intermediate readable
  // The sample count the arena is planned for when the graph holds m; 0:
  // the first run's m.
  std::int64_t capacity = 0;
};

template <class T>
concept Element = std::same_as<T, float> || std::same_as<T, double>;

template <Element T>
constexpr DType dtype_of() {
  return std::same_as<T, float> ? DType::f32 : DType::f64;
}

class Executor {
 public:
  Executor(const Graph& graph, std::vector<NodeId> outputs, const ExecutorOptions& options = {});
  Executor(const Graph& graph, std::span<const Expr> outputs, const ExecutorOptions& options = {});
  Executor(const Graph& graph, std::initializer_list<Expr> outputs,
           const ExecutorOptions& options = {});
  ~Executor();
  Executor(Executor&&) noexcept;
  Executor& operator=(Executor&&) noexcept;

  // A leaf named by id, by handle or by name.
  class Leaf {
   public:
    Leaf(NodeId id) : id_(id) {}                       // NOLINT: implicit by design
    Leaf(Expr e) : expr_(e), by_expr_(true) {}         // NOLINT
    Leaf(const char* name) : name_(name) {}            // NOLINT
    Leaf(std::string_view name) : name_(name) {}       // NOLINT
    Leaf(const std::string& name) : name_(name) {}     // NOLINT

   private:
    friend class Executor;
    NodeId id_ = 0;
    Expr expr_;
    std::string_view name_;
    bool by_expr_ = false;
  };

  // Binds an input, parameter or state leaf to `data`, which must hold the
  // shape's elements of the graph's dtype and outlive the runs. A leaf with
  // m takes the shape with m bound: X (n x m) bound as (n x 64). A wrong
  // shape or dtype, or a node that is not a leaf of this plan, is an
  // InputError naming the leaf. Memory bound through a const pointer is never
  // written; a leaf that the plan updates (an optimizer's W or v) needs a
  // mutable pointer.
  template <Element T> void bind(Leaf leaf, const T* data, Shape shape) {
    bind_raw(id_of(leaf), data, shape, dtype_of<T>(), false);
  }
  template <Element T> void bind(Leaf leaf, T* data, Shape shape) {
    bind_raw(id_of(leaf), data, shape, dtype_of<T>(), true);
  }
  // The shape is the graph's: for leaves without m (parameters, state).
  template <Element T> void bind(Leaf leaf, const T* data) {
    const NodeId id = id_of(leaf);
    bind_raw(id, data, fixed_shape(id), dtype_of<T>(), false);
  }
  template <Element T> void bind(Leaf leaf, T* data) {
    const NodeId id = id_of(leaf);
    bind_raw(id, data, fixed_shape(id), dtype_of<T>(), true);
  }
  void bind(Leaf leaf, const Tensor& t);
  void bind(Leaf leaf, Tensor& t);

  void run(const RunOptions& options = {});
  // As run(), and adds each step's kernel time in seconds to step_seconds
  // (one entry per schedule step): for `dagrad bench --profile`.
  void run(const RunOptions& options, std::span<double> step_seconds);

  // The value of an output (or a bound leaf) after run(): a row-major matrix
  // of the last run's shape. Other scheduled nodes share buffers and are
  // refused with a GraphError unless the plan was made with share = false.
  // A run that plans again (more samples than the capacity) moves buffers.
  ops::Buffer value(NodeId id) const;
  ops::Buffer value(Expr e) const { return value(id_of(e)); }
  // The values as T; a T that is not the graph's dtype is a GraphError.
  template <Element T> std::span<const T> values(NodeId id) const {
    check_dtype(id, dtype_of<T>());
    const ops::Buffer b = value(id);
    return {b.as<const T>(), static_cast<std::size_t>(b.shape.size())};
  }
  template <Element T> std::span<const T> values(Expr e) const { return values<T>(id_of(e)); }
  // A 1x1 value (a cost) as double.
  double scalar(NodeId id) const;
  double scalar(Expr e) const { return scalar(id_of(e)); }

  const Graph& graph() const { return *graph_ptr_; }
  std::span<const NodeId> schedule() const;
  std::size_t arena_bytes() const;
  const MemoryPlan& plan() const;
  std::int64_t samples() const;   // m of the last run (0: the graph has no m)
  std::int64_t capacity() const;  // the m the arena is planned for
  int replans() const;            // plans made after the first, for more samples

 private:
  struct Impl;
  void bind_raw(NodeId leaf, const void* data, Shape shape, DType dtype, bool writable);
  Shape fixed_shape(NodeId leaf) const;
  NodeId id_of(Expr e) const;
  NodeId id_of(const Leaf& leaf) const;
  void check_dtype(NodeId id, DType want) const;
  const Graph* graph_ptr_;

  std::unique_ptr<Impl> impl_;
};

// Sets the thread count of OpenBLAS's matrix products and of dagrad's large
// element-wise loops (ops/parallel.hpp). Both run on libgomp's one pool, so
// no second pool spins beside OpenBLAS's.
void set_threads(int threads);
int threads();

}  // namespace dagrad::runtime
