#include "dagrad/serve/inference_plan.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/ops/vecmath.hpp"
#include "dagrad/passes/optimize.hpp"

namespace dagrad::serve {

namespace {

bool is_leaf(OpKind op) { return op == OpKind::input || op == OpKind::param || op == OpKind::state; }

// Element-wise activations the layer path runs through their op's kernel,
// in either layout (softmax per sample).
bool is_activation(OpKind op) {
  return op == OpKind::relu || op == OpKind::tanh || op == OpKind::sigmoid ||
         op == OpKind::leaky_relu || op == OpKind::softmax;
}

ops::RunContext inference_run(std::int64_t m) {
  return ops::RunContext{false, 0, runtime::threads(), m, {}, 0, nullptr};
}

template <class T>
ops::Buffer buffer(const T* p, std::int64_t rows, std::int64_t cols) {
  return ops::Buffer{const_cast<T*>(p), Shape{rows, cols}};
}

const char* layout_name(Layout l) { return l == Layout::rows ? "rows" : "columns"; }

}  // namespace

// ---- Context ----------------------------------------------------------------

Context::Context(const InferencePlan& plan) : plan_(&plan) {}
Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

// ---- building the plan ---------------------------------------------------------

InferencePlan::InferencePlan(const models::Model& model) : dtype_(model.dtype()) {
  const std::vector<Expr> outs = model.outputs();
  std::vector<NodeId> ids;
  for (Expr o : outs) {
    if (o.shape().cols != m_dim)
      throw GraphError(fmt::format("serve: output {} {} has no sample columns (m)", o.name(),
                                   to_string(o.shape())));
    n_out_ += o.shape().rows;
    ids.push_back(o.id);
  }
  // Forward nodes only: the outputs' ancestors, fused (the bias add into the
  // GEMM) exactly as a training session's prediction plan is.
  compiled_ = passes::optimize(model.graph(), ids, passes::PassOptions{});
  outputs_ = compiled_.outputs;
  const Expr X = model.features();
  n_x_ = X.shape().rows;
  features_ = compiled_.map[X.id];
  if (features_ == passes::no_node)
    throw GraphError(fmt::format("serve: the model's outputs do not depend on its features {}", X.name()));
  for (NodeId id = 0; id < compiled_.graph.size(); ++id) {
    const Node& n = compiled_.graph.node(id);
    if (!is_leaf(n.op) || id == features_) continue;
    if (n.op == OpKind::input)
      throw GraphError(fmt::format("serve: the model's outputs need input {} {} besides the features {}",
                                   n.name, to_string(n.shape), X.name()));
    params_.emplace_back(id, model.value(n.name));  // a copy: the plan outlives the model
  }
  if (model.normalization) norm_ = model.normalization;
  if (norm_ && static_cast<std::int64_t>(norm_->mu.size()) != n_x_)
    throw GraphError(fmt::format("serve: the normalization has {} features but {} takes {}",
                                 norm_->mu.size(), X.name(), n_x_));
  const bool layered = match_layers();
  if (layered) match_narrow();
  std::string acts;
  for (const Layer& l : layers_)
    acts += fmt::format("{}{}", acts.empty() ? "" : ", ",
                        l.has_act ? ops::op_def(compiled_.graph.node(l.act).op).name : "identity");
  std::string widths = fmt::format("{}", n_x_);
  for (const Layer& l : layers_) widths += fmt::format("-{}", l.units);
  describe_ = layered ? fmt::format("{} layers {}: {}{}", layers_.size(), widths, acts,
                                    narrow_ ? " (fused narrow forward)" : "")
                      : fmt::format("a graph of {} nodes on an executor", compiled_.graph.size());
  describe_ += fmt::format("; {}; normalization: {}", dtype_name(dtype_), norm_ ? "yes" : "no");
}

InferencePlan::~InferencePlan() = default;
InferencePlan::InferencePlan(InferencePlan&&) noexcept = default;
InferencePlan& InferencePlan::operator=(InferencePlan&&) noexcept = default;

std::string InferencePlan::describe() const { return describe_; }

// Walks from the one output back to the features through layers
// act(matmul_bias(W, A_prev, b)), dropout (the identity in inference)
// between them. Anything else leaves layers_ empty: the executor path.
bool InferencePlan::match_layers() {
  if (outputs_.size() != 1) return false;
  const Graph& g = compiled_.graph;
  auto param = [&](NodeId id) -> const runtime::Tensor* {
    for (const auto& [pid, t] : params_)
      if (pid == id) return &t;
    return nullptr;
  };
  std::vector<Layer> found;
  NodeId at = outputs_[0];
  while (at != features_) {
    Layer l;
    const Node* n = &g.node(at);
    if (is_activation(n->op)) {
      l.has_act = true;
      l.act = at;
      // The tile's activations, or the output layer's softmax (is_activation).
      l.softmax = n->op == OpKind::softmax;
      if (!l.softmax) ops::read_activation(*n, l.g, l.slope);
      at = n->inputs[0];
      n = &g.node(at);
    }
    if (n->op != OpKind::matmul_bias || n->attr<MatmulAttrs>().trans_a || n->attr<MatmulAttrs>().trans_b ||
        !n->attr<MatmulAttrs>().scale.is_one())
      return false;
    l.z = at;
    l.W = param(n->inputs[0]);
    l.b = param(n->inputs[2]);
    const Shape z = n->shape;
    if (!l.W || !l.b || z.cols != m_dim || l.b->shape() != Shape{z.rows, 1}) return false;
    l.units = z.rows;
    l.fan_in = l.W->shape().cols;
    at = n->inputs[1];
    while (g.node(at).op == OpKind::dropout) at = g.node(at).inputs[0];
    const Node& prev = g.node(at);
    if (at != features_ && prev.shape.rows != l.fan_in) return false;
    found.push_back(l);
  }
  if (found.empty()) return false;
  std::reverse(found.begin(), found.end());
  layers_ = std::move(found);
  for (Layer& l : layers_) {
    widest_ = std::max(widest_, l.units);
    l.Wt = runtime::Tensor(dtype_, Shape{l.fan_in, l.units});
    for (std::int64_t i = 0; i < l.units; ++i)
      for (std::int64_t j = 0; j < l.fan_in; ++j) l.Wt.set(j * l.units + i, l.W->get(i * l.fan_in + j));
  }
  return true;
}

// A chain whose every width (the input's too) is at most net_max_width, with
// hidden activations the tile has (relu, leaky_relu, tanh, sigmoid, none)
// and any of them or a softmax last, runs as one fused narrow forward.
void InferencePlan::match_narrow() {
  if (n_x_ > ops::net_max_width) return;
  NarrowNet net;
  net.inputs = n_x_;
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const Layer& l = layers_[k];
    if (l.units > ops::net_max_width) return;
    if (l.softmax && k + 1 != layers_.size()) return;
    net.layers.push_back(NarrowLayer{l.W->raw(), l.b->raw(), l.units, l.fan_in, l.g, l.slope, l.softmax});
  }
  if (norm_) {
    net.mu = norm_->mu;
    for (double s : norm_->sigma) net.inv_sigma.push_back(1.0 / s);  // as Normalizer::apply
  }
  narrow_ = std::move(net);
}

// ---- running it -----------------------------------------------------------------

void InferencePlan::reserve(Context& ctx, std::int64_t m) const {
  // A tile for each thread the call may use (runtime::threads() at the first call).
  if (narrow_ && ctx.tile_.empty())
    ctx.tile_.resize(std::size_t(runtime::threads()) * narrow_->scratch_bytes(dtype_ == DType::f32));
  ctx.capacity_ = std::max(ctx.capacity_, m);
  // A narrow plan runs layer by layer below narrow_min_samples only.
  const std::int64_t rows = narrow_ ? std::min(m, narrow_min_samples - 1) : m;
  if (rows <= ctx.buffered_) return;
  // Grown to what this call needs; later calls of up to `rows` samples reuse it.
  if (norm_ || !layered()) ctx.input_ = runtime::Tensor(dtype_, Shape{n_x_, rows});
  if (layered()) {
    ctx.ping_ = runtime::Tensor(dtype_, Shape{widest_, rows});
    ctx.pong_ = runtime::Tensor(dtype_, Shape{widest_, rows});
    // The partial products of the GEMMs cut along K (ops/gemm_planner.hpp),
    // kept by this thread, for every batch up to `rows`.
    for (const Layer& l : layers_) ops::reserve_gemm_partials(dtype_, rows, l.units, l.fan_in);
  } else {
    runtime::ExecutorOptions eo;
    eo.capacity = rows;
    ctx.exec_ = std::make_unique<runtime::Executor>(compiled_.graph, outputs_, eo);
    for (const auto& [id, t] : params_) ctx.exec_->bind(id, t);
  }
  ctx.buffered_ = rows;
}

// x with the model's normalization applied, in layout `to` (into the
// context), or x itself when it needs neither.
template <class T>
const T* InferencePlan::prepared(Context& ctx, const T* x, std::int64_t m, Layout from, Layout to) const {
  if (!norm_ && from == to) return x;
  T* out = ctx.input_.data<T>();
  const auto features = static_cast<std::size_t>(n_x_), samples = static_cast<std::size_t>(m);
  // rows: sample s's feature j at s * n_x + j; columns: at j * m + s.
  auto at = [&](Layout l, std::size_t s, std::size_t j) {
    return l == Layout::rows ? s * features + j : j * samples + s;
  };
  for (std::size_t s = 0; s < samples; ++s)
    for (std::size_t j = 0; j < features; ++j) {
      const T v = x[at(from, s, j)];
      out[at(to, s, j)] = norm_ ? static_cast<T>(norm_->apply(j, static_cast<double>(v))) : v;
    }
  return out;
}

// Z^T (m x units, a sample per row) := g(Z^T + b^T), a block of rows at a
// time while it is in L1: the bias, then the activation's rule
// (ops/activation_rule.hpp; tanh and sigmoid on the vecmath arrays, as
// their ops), or per row the softmax y_k = e^(z_k - top) / sum_j e^(z_j -
// top), top = max_j z_j, its exponentials in one vecmath call per block.
template <class T>
void InferencePlan::epilogue_rows(const Layer& l, T* z, std::int64_t m) const {
  const T* b = l.b->data<T>();
  const std::int64_t K = l.units, block = std::max<std::int64_t>(1, 4096 / K);
  const T slope = static_cast<T>(l.slope);
  ops::with_simd([&] {
    for (std::int64_t r0 = 0; r0 < m; r0 += block) {
      const std::int64_t rows = std::min(block, m - r0);
      T* zb = z + r0 * K;
      for (std::int64_t r = 0; r < rows; ++r) {
        T* row = zb + r * K;
        switch (l.g) {
          case ops::NetActivation::relu:
            for (std::int64_t k = 0; k < K; ++k) row[k] = ops::act::relu(row[k] + b[k]);
            break;
          case ops::NetActivation::leaky_relu:
            for (std::int64_t k = 0; k < K; ++k) row[k] = ops::act::leaky_relu(row[k] + b[k], slope);
            break;
          default:
            for (std::int64_t k = 0; k < K; ++k) row[k] += b[k];
        }
        if (l.softmax) {
          const T top = ops::act::column_max(row, K, 1);
          for (std::int64_t k = 0; k < K; ++k) row[k] -= top;
        }
      }
      if (l.g == ops::NetActivation::tanh) ops::act::tanh(zb, zb, rows * K);
      if (l.g == ops::NetActivation::sigmoid) ops::act::sigmoid(zb, zb, rows * K);
      if (!l.softmax) continue;
      ops::vec::exp(zb, zb, rows * K);
      for (std::int64_t r = 0; r < rows; ++r) {
        T* row = zb + r * K;
        double total = 0.0;  // as ops/softmax.cpp
        for (std::int64_t k = 0; k < K; ++k) total += row[k];
        for (std::int64_t k = 0; k < K; ++k) row[k] = static_cast<T>(row[k] / total);
      }
    }
  });
}

template <class T>
void InferencePlan::run_layers(Context& ctx, const T* x, T* y, std::int64_t m, Layout layout) const {
  const bool rows = layout == Layout::rows;
  if (narrow_ && m >= narrow_min_samples) {
    const auto tiles = ctx.tile_.size() / narrow_->scratch_bytes(dtype_ == DType::f32);
    const int threads = std::min(runtime::threads(), static_cast<int>(tiles));
    return narrow_forward<T>(*narrow_, x, y, m, rows, ctx.tile_.data(), threads);
  }
  const Graph& g = compiled_.graph;
  const ops::RunContext run = inference_run(m);
  const T* a = prepared(ctx, x, m, layout, layout);
  T* bufs[2] = {ctx.ping_.data<T>(), ctx.pong_.data<T>()};
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const Layer& l = layers_[k];
    T* z = k + 1 == layers_.size() ? y : bufs[k % 2];  // the last layer writes y itself
    const ops::Buffer W = buffer(l.W->data<T>(), l.units, l.fan_in);
    const ops::Buffer b = buffer(l.b->data<T>(), l.units, 1);
    if (!rows) {
      // The matmul_bias kernel itself, on the node the training plan runs.
      const ops::Buffer in[3] = {W, buffer(a, l.fan_in, m), b};
      const ops::OpDef& def = ops::op_def(OpKind::matmul_bias);
      (std::is_same_v<T, float> ? def.f32 : def.f64)(
          ops::KernelCall{g, l.z, g.node(l.z), in, buffer(z, l.units, m), run});
    } else {
      // Z^T = A^T W^T, then b^T and the activation in one pass over the
      // rows (epilogue_rows). One sample reads W's rows (A W^T, NT): the
      // NN product on W^T ran 1.2 to 1.5x slower there (oneDNN, W-mb and
      // W-course), and faster from 4 samples on (1.3x at 16, 3x at 4 for
      // W-course).
      if (m == 1)
        ops::gemm<T>(buffer(a, m, l.fan_in), false, W, true, T(1), T(0), buffer(z, m, l.units));
      else
        ops::gemm<T>(buffer(a, m, l.fan_in), false, buffer(l.Wt.data<T>(), l.fan_in, l.units), false, T(1),
                     T(0), buffer(z, m, l.units));
      epilogue_rows<T>(l, z, m);
    }
    if (l.has_act && !rows) {
      const Node& n = g.node(l.act);
      const ops::Buffer zb = buffer(z, l.units, m);
      const ops::OpDef& def = ops::op_def(n.op);
      (std::is_same_v<T, float> ? def.f32 : def.f64)(ops::KernelCall{g, l.act, n, {&zb, 1}, zb, run});
    }
    a = z;
  }
}

template <class T>
void InferencePlan::run_graph(Context& ctx, const T* x, T* y, std::int64_t m, Layout layout) const {
  runtime::Executor& exec = *ctx.exec_;
  // The executor computes with samples as columns.
  exec.bind(features_, prepared(ctx, x, m, layout, Layout::columns), Shape{n_x_, m});
  exec.run({.training = false, .step = 0});
  std::int64_t row0 = 0;
  for (NodeId o : outputs_) {
    const ops::Buffer v = exec.value(o);
    const T* p = v.as<const T>();
    for (std::int64_t r = 0; r < v.shape.rows; ++r)
      for (std::int64_t s = 0; s < m; ++s)
        y[layout == Layout::rows ? s * n_out_ + row0 + r : (row0 + r) * m + s] = p[r * m + s];
    row0 += v.shape.rows;
  }
}

template <class T>
void InferencePlan::run(Context& ctx, std::span<const T> x, std::span<T> y, Layout layout) const {
  if (runtime::dtype_of<T>() != dtype_)
    throw InputError(fmt::format("predict: the model computes in {}, but x holds {} values: pass "
                                 "spans of {}", dtype_name(dtype_), dtype_name(runtime::dtype_of<T>()),
                                 dtype_ == DType::f32 ? "float" : "double"));
  if (ctx.plan_ != this)
    throw InputError("predict: the context was made for another plan (make one Context per plan and thread)");
  const auto nx = static_cast<std::size_t>(n_x_);
  if (x.empty() || x.size() % nx != 0)
    throw InputError(fmt::format("predict: x holds {} values, not a whole number >= 1 of samples of "
                                 "{} features ({} layout: x is {})", x.size(), n_x_, layout_name(layout),
                                 layout == Layout::rows ? "(batch x n_x)" : "(n_x x batch)"));
  const auto m = static_cast<std::int64_t>(x.size() / nx);
  if (y.size() != static_cast<std::size_t>(m * n_out_))
    throw InputError(fmt::format("predict: y holds {} values, but {} samples of {} outputs need {} ({} "
                                 "layout: y is {}x{})", y.size(), m, n_out_, m * n_out_,
                                 layout_name(layout), layout == Layout::rows ? m : n_out_,
                                 layout == Layout::rows ? n_out_ : m));
  reserve(ctx, m);
  if (layered()) run_layers<T>(ctx, x.data(), y.data(), m, layout);
  else run_graph<T>(ctx, x.data(), y.data(), m, layout);
}

void InferencePlan::predict(Context& ctx, std::span<const float> x, std::span<float> y, Layout layout) const {
  run<float>(ctx, x, y, layout);
}
void InferencePlan::predict(Context& ctx, std::span<const double> x, std::span<double> y,
                            Layout layout) const {
  run<double>(ctx, x, y, layout);
}

}  // namespace dagrad::serve
