// RMSprop, the notes' form:
//   s_dW = beta2 s_dW + (1 - beta2) dW^2
//   W    = W - alpha dW / (sqrt(s_dW) + epsilon)
// One moment per parameter (s).
#include <cmath>

#include "dagrad/ops/kernels.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::optim {

namespace {

Expr equations(Builder& b, const ParamStep& p, const OptimizerConfig& c) {
  const Expr s = b.assign(p.moment(0), b.average(p.moment(0), b.op(OpKind::square, {p.dW}), c.beta2));
  // alpha dW / (sqrt(s) + epsilon), multiplied first as the loop does.
  const Expr step = b.op(OpKind::div, {b.op(OpKind::mul, {p.alpha, p.dW}),
                                       b.scaled(b.op(OpKind::sqrt, {s}), 1.0, c.epsilon)});
  return b.op(OpKind::sub, {p.W, step});
}

template <class T>
void loop(T* __restrict w, T* __restrict s, const T* __restrict g, std::int64_t n, T lr, T beta2,
          T eps) {
  for (std::int64_t i = 0; i < n; ++i) {
    s[i] = beta2 * s[i] + (T(1) - beta2) * g[i] * g[i];
    w[i] -= lr * g[i] / (std::sqrt(s[i]) + eps);
  }
}

template <class T>
void rule(const ops::UpdateSpan<T>& s, const ops::UpdateCoeffs<T>& k) {
  ops::with_simd([&] { loop<T>(s.w, s.m0, s.g, s.n, k.alpha, k.beta2, k.epsilon); });
}

constexpr ops::UpdateRule rmsprop_rule{"rmsprop", 1, 0, &rule<float>, &rule<double>};

}  // namespace

extern const Optimizer rmsprop_optimizer{OptimizerKind::rmsprop, "rmsprop", {"s"}, false,
                                         hyper::beta2 | hyper::epsilon, nullptr, equations,
                                         &rmsprop_rule};

}  // namespace dagrad::optim
