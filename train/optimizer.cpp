#include "dagrad/train/optimizer.hpp"

#include <cmath>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/parallel.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::train {

OptimizerKind parse_optimizer(std::string_view s) {
  for (OptimizerKind k : {OptimizerKind::gd, OptimizerKind::momentum, OptimizerKind::rmsprop,
                          OptimizerKind::adam})
    if (name_of(k) == s) return k;
  throw InputError(fmt::format("unknown --optimizer '{}' (use gd, momentum, rmsprop or adam)", s));
}

std::string_view name_of(OptimizerKind k) {
  constexpr std::string_view names[] = {"gd", "momentum", "rmsprop", "adam"};
  return names[static_cast<int>(k)];
}

void OptimizerConfig::validate() const {
  if (!(beta1 >= 0.0 && beta1 < 1.0))
    throw InputError(fmt::format("--beta1 {} is not in [0, 1)", beta1));
  if (!(beta2 >= 0.0 && beta2 < 1.0))
    throw InputError(fmt::format("--beta2 {} is not in [0, 1)", beta2));
  if (!(epsilon > 0.0)) throw InputError(fmt::format("--epsilon {} must be > 0", epsilon));
}

namespace {

// The update loops: plain indexed loops over restrict pointers, so g++ -O2
// vectorizes them (no aliasing between W, v, s and dW).
template <class T>
void update_gd(T* __restrict w, const T* __restrict g, std::int64_t n, T lr) {
  for (std::int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
}

template <class T>
void update_momentum(T* __restrict w, T* __restrict v, const T* __restrict g, std::int64_t n,
                     T lr, T beta) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta * v[i] + (T(1) - beta) * g[i];
    w[i] -= lr * v[i];
  }
}

template <class T>
void update_rmsprop(T* __restrict w, T* __restrict s, const T* __restrict g, std::int64_t n,
                    T lr, T beta2, T eps) {
  for (std::int64_t i = 0; i < n; ++i) {
    s[i] = beta2 * s[i] + (T(1) - beta2) * g[i] * g[i];
    w[i] -= lr * g[i] / (std::sqrt(s[i]) + eps);
  }
}

// c1 = 1 - beta1^t and c2 = 1 - beta2^t, the bias corrections.
template <class T>
void update_adam(T* __restrict w, T* __restrict v, T* __restrict s, const T* __restrict g,
                 std::int64_t n, T lr, T beta1, T beta2, T eps, T c1, T c2) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta1 * v[i] + (T(1) - beta1) * g[i];
    s[i] = beta2 * s[i] + (T(1) - beta2) * g[i] * g[i];
    w[i] -= lr * (v[i] / c1) / (std::sqrt(s[i] / c2) + eps);
  }
}

}  // namespace

Optimizer::Optimizer(const OptimizerConfig& config, std::span<const runtime::Tensor> params)
    : config_(config) {
  config_.validate();
  const bool first = config.kind == OptimizerKind::momentum || config.kind == OptimizerKind::adam;
  const bool second = config.kind == OptimizerKind::rmsprop || config.kind == OptimizerKind::adam;
  for (const runtime::Tensor& p : params) {
    if (first) v_.emplace_back(p.dtype(), p.shape());
    if (second) s_.emplace_back(p.dtype(), p.shape());
  }
}

namespace {

// One parameter's update, split over runtime::threads() threads when it is
// large; every element's arithmetic is the same for any split.
template <class T>
void step_one(const OptimizerConfig& c, std::int64_t t, runtime::Tensor& w, runtime::Tensor* v,
              runtime::Tensor* s, const T* g, double lr) {
  T* W = w.data<T>();
  T* V = v ? v->data<T>() : nullptr;
  T* S = s ? s->data<T>() : nullptr;
  const double td = static_cast<double>(t);
  const T c1 = T(1.0 - std::pow(c.beta1, td)), c2 = T(1.0 - std::pow(c.beta2, td));
  ops::parallel_for(runtime::threads(), w.size(), [&](std::int64_t b, std::int64_t e) {
    const std::int64_t n = e - b;
    switch (c.kind) {
      case OptimizerKind::gd: update_gd<T>(W + b, g + b, n, T(lr)); return;
      case OptimizerKind::momentum:
        update_momentum<T>(W + b, V + b, g + b, n, T(lr), T(c.beta1));
        return;
      case OptimizerKind::rmsprop:
        update_rmsprop<T>(W + b, S + b, g + b, n, T(lr), T(c.beta2), T(c.epsilon));
        return;
      case OptimizerKind::adam:
        update_adam<T>(W + b, V + b, S + b, g + b, n, T(lr), T(c.beta1), T(c.beta2),
                       T(c.epsilon), c1, c2);
        return;
    }
  });
}

}  // namespace

void Optimizer::step(std::span<runtime::Tensor> params, std::span<const ops::Buffer> grads,
                     double lr) {
  if (params.size() != grads.size())
    throw GraphError(fmt::format("optimizer: {} parameters but {} gradients", params.size(),
                                 grads.size()));
  ++t_;
  for (std::size_t k = 0; k < params.size(); ++k) {
    runtime::Tensor& w = params[k];
    if (grads[k].shape != w.shape())
      throw GraphError(fmt::format("optimizer: gradient {} has shape {} but its parameter {}",
                                   k, to_string(grads[k].shape), to_string(w.shape())));
    runtime::Tensor* v = v_.empty() ? nullptr : &v_[k];
    runtime::Tensor* s = s_.empty() ? nullptr : &s_[k];
    if (w.dtype() == DType::f32) step_one<float>(config_, t_, w, v, s, grads[k].as<const float>(), lr);
    else step_one<double>(config_, t_, w, v, s, grads[k].as<const double>(), lr);
  }
}

}  // namespace dagrad::train
