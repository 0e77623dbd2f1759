// The executor compiles a graph and its requested outputs into a plan: the
// topological schedule of the outputs' ancestors, buffers placed in one arena
// allocated once by the memory planner (runtime/planner.hpp: values that are
// never live together share bytes; outputs persist), and a kernel per step. Inputs and
// parameters are bound to caller memory (no copy); run() executes the plan,
// and may be called any number of times without allocating.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/runtime/planner.hpp"
#include "dagrad/runtime/tensor.hpp"

namespace dagrad::runtime {

struct RunOptions {
  bool training = true;     // dropout active
  std::uint64_t step = 0;   // dropout RNG counter: same step, same masks
  bool check_numerics = false;  // stop at the first node that yields NaN/Inf
};

struct ExecutorOptions {
  PlanOptions plan;  // plan.share = false keeps every intermediate readable
};

class Executor {
 public:
  Executor(const Graph& graph, std::vector<NodeId> outputs, const ExecutorOptions& options = {});
  ~Executor();
  Executor(Executor&&) noexcept;
  Executor& operator=(Executor&&) noexcept;

  // Binds an input or parameter to `data`, which must hold shape.size()
  // elements of the graph's dtype and outlive the runs. A wrong shape or
  // dtype, or a node that is not a leaf of this plan, is an InputError.
  void bind(NodeId leaf, const float* data, Shape shape);
  void bind(NodeId leaf, const double* data, Shape shape);
  void bind(std::string_view name, const float* data, Shape shape);
  void bind(std::string_view name, const double* data, Shape shape);
  void bind(NodeId leaf, const Tensor& t);

  void run(const RunOptions& options = {});
  // As run(), and adds each step's kernel time in seconds to step_seconds
  // (one entry per schedule step): for `dagrad bench --profile`.
  void run(const RunOptions& options, std::span<double> step_seconds);

  // The value of an output (or a bound leaf) after run(): a row-major matrix.
  // Other scheduled nodes share buffers and are refused with a GraphError
  // unless the plan was made with share = false.
  ops::Buffer value(NodeId id) const;
  template <class T> std::span<const T> values(NodeId id) const {
    const ops::Buffer b = value(id);
    return {b.as<const T>(), static_cast<std::size_t>(b.shape.size())};
  }
  // A 1x1 value (a cost) as double.
  double scalar(NodeId id) const;

  const Graph& graph() const { return *graph_ptr_; }
  std::span<const NodeId> schedule() const;
  std::size_t arena_bytes() const;
  const MemoryPlan& plan() const;

 private:
  struct Impl;
  void bind_raw(NodeId leaf, const void* data, Shape shape, DType dtype);
  const Graph* graph_ptr_;

  std::unique_ptr<Impl> impl_;
};

// Sets the thread count of OpenBLAS's matrix products and of dagrad's large
// element-wise loops (ops/parallel.hpp). Both run on libgomp's one pool, so
// no second pool spins beside OpenBLAS's.
void set_threads(int threads);
int threads();

}  // namespace dagrad::runtime
