// Serving: a trained model's forward pass for new samples, in the model's own
// dtype, with no copy of the caller's data and no allocation per call.
//
//   models::Model model = models::load_model("m.dagrad");
//   serve::InferencePlan plan(model);          // forward nodes only; weights copied once
//   serve::Context ctx(plan);                  // one per thread: its buffers
//   std::vector<float> x(batch * plan.inputs()), y(batch * plan.outputs());
//   plan.predict(ctx, x, y, serve::Layout::rows);   // ONNX's layout: x is (batch x n_x)
//
// Layouts, both row-major, `batch` taken from the spans' sizes:
//   columns  x (n_x x batch), y (n_out x batch): samples as columns, the notes' X
//   rows     x (batch x n_x), y (batch x n_out): samples as rows, ONNX's and numpy's
// The plan is the model's graph optimized for its outputs alone (no cost,
// no backward pass, no update; the bias add fused into the GEMM). A plain
// chain of layers A = g(W A_prev + b) (relu, leaky_relu, tanh, sigmoid,
// softmax or none; dropout as the identity) runs:
//   - narrow (every width, the input's too, at most ops::net_max_width),
//     from narrow_min_samples samples: one fused forward over tiles of
//     samples kept in L1 (serve/narrow_forward.hpp), in either layout;
//   - else layer by layer: in columns layout on the op kernels themselves,
//     on the training plan's nodes; in rows layout as Z^T = A_prev^T W^T
//     (ops::gemm), then the bias and the activation in one pass over the
//     rows (epilogue_rows).
// Any other graph runs on a runtime::Executor per context. Columns layout
// layer by layer has the same bits as the training plan's forward pass
// (train::Session); the other paths sum in another order: within 1e-13
// relative in f64, a few ulps in f32 (tests/serve/).
//
// Thread safety: a plan is immutable after construction, and predict() is
// const: any number of threads may call it at once on one plan, each with
// its own Context. A Context must not be used by two threads at once.
// A context grows its buffers at its first call and at any call with more
// samples than it has seen; other calls allocate nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dagrad/models/model.hpp"
#include "dagrad/passes/rebuild.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/runtime/tensor.hpp"
#include "dagrad/serve/narrow_forward.hpp"

namespace dagrad::serve {

enum class Layout : std::uint8_t { columns, rows };

class InferencePlan;

// One caller's buffers: the normalized input, the layers' values, or an
// executor for a general graph. Cheap to make; make one per thread. It
// refers to its plan by address: make it once the plan is where it stays.
class Context {
 public:
  explicit Context(const InferencePlan& plan);
  ~Context();
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  // The most samples one call has brought so far: the buffers' capacity.
  std::int64_t capacity() const { return capacity_; }

 private:
  friend class InferencePlan;
  const InferencePlan* plan_;
  std::int64_t capacity_ = 0;
  std::int64_t buffered_ = 0;  // samples the layer buffers or the executor hold
  runtime::Tensor input_, ping_, pong_;  // normalized/transposed input; the layers' values
  std::vector<unsigned char> tile_;      // the narrow forward's tile (narrow nets only)
  std::unique_ptr<runtime::Executor> exec_;  // general graphs only
};

class InferencePlan {
 public:
  // Copies the model's parameters: the plan does not refer to the model
  // afterwards. A model without outputs, or whose outputs have no sample
  // columns, is a GraphError naming the output.
  explicit InferencePlan(const models::Model& model);
  ~InferencePlan();
  InferencePlan(InferencePlan&&) noexcept;
  InferencePlan& operator=(InferencePlan&&) noexcept;

  DType dtype() const { return dtype_; }
  std::int64_t inputs() const { return n_x_; }    // features per sample (n[0])
  std::int64_t outputs() const { return n_out_; } // units per sample, every output stacked
  bool layered() const { return !layers_.empty(); }  // the layer path (else an executor)
  // The layer path's fused narrow forward, for calls of narrow_min_samples
  // or more: one sample runs faster layer by layer (0.20 against 0.33 us on
  // 4-16-3; even at 2, 0.53 us; 8x faster at 64).
  bool narrow() const { return narrow_.has_value(); }
  static constexpr std::int64_t narrow_min_samples = 2;
  // One line: the path and the layers ("3 layers 784-128-64-10: relu, relu,
  // softmax; normalization: no").
  std::string describe() const;
  const Graph& graph() const { return compiled_.graph; }

  // y := the model's outputs for the samples in x. x.size() must be a
  // multiple of inputs() (the batch, >= 1) and y.size() the batch times
  // outputs(); otherwise an InputError naming the span and both sizes. The
  // spans' element type must be the model's dtype (InputError otherwise).
  void predict(Context& ctx, std::span<const float> x, std::span<float> y,
               Layout layout = Layout::rows) const;
  void predict(Context& ctx, std::span<const double> x, std::span<double> y,
               Layout layout = Layout::rows) const;

 private:
  friend class Context;
  // One layer: Z = W A_prev + b (a matmul_bias node of the compiled graph),
  // then the activation node `act` (none: the identity).
  struct Layer {
    NodeId z = 0, act = 0;
    bool has_act = false;
    ops::NetActivation g = ops::NetActivation::identity;  // the activation, softmax aside
    double slope = 0.01;                                  // leaky_relu
    bool softmax = false;
    const runtime::Tensor* W = nullptr;
    const runtime::Tensor* b = nullptr;
    runtime::Tensor Wt;  // W^T (fan_in x units), made once: the rows layout's NN product
    std::int64_t units = 0, fan_in = 0;
  };
  template <class T> void run(Context& ctx, std::span<const T> x, std::span<T> y, Layout layout) const;
  template <class T> void epilogue_rows(const Layer& l, T* z, std::int64_t m) const;
  template <class T> void run_layers(Context& ctx, const T* x, T* y, std::int64_t m, Layout layout) const;
  template <class T> void run_graph(Context& ctx, const T* x, T* y, std::int64_t m, Layout layout) const;
  template <class T>
  const T* prepared(Context& ctx, const T* x, std::int64_t m, Layout from, Layout to) const;
  void reserve(Context& ctx, std::int64_t m) const;
  bool match_layers();
  void match_narrow();

  DType dtype_ = DType::f64;
  std::int64_t n_x_ = 0, n_out_ = 0;
  passes::Rewritten compiled_;
  NodeId features_ = 0;
  std::vector<NodeId> outputs_;
  std::vector<std::pair<NodeId, runtime::Tensor>> params_;  // by compiled node id
  std::vector<Layer> layers_;
  std::int64_t widest_ = 0;  // the most units of any layer
  std::optional<NarrowNet> narrow_;  // a narrow chain of layers: serve/narrow_forward.hpp
  std::optional<models::Normalizer> norm_;  // the model's input normalization
  std::string describe_;
};

}  // namespace dagrad::serve
