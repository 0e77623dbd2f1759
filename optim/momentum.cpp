// Gradient descent with momentum, the notes' form:
//   v_dW = beta1 v_dW + (1 - beta1) dW
//   W    = W - alpha v_dW
// One moment per parameter (v).
#include "dagrad/ops/kernels.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::optim {

namespace {

Expr equations(Builder& b, const ParamStep& p, const OptimizerConfig& c) {
  const Expr v = b.assign(p.moment(0), b.average(p.moment(0), p.dW, c.beta1));
  return b.op(OpKind::sub, {p.W, b.op(OpKind::mul, {p.alpha, v})});
}

template <class T>
void loop(T* __restrict w, T* __restrict v, const T* __restrict g, std::int64_t n, T lr, T beta) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta * v[i] + (T(1) - beta) * g[i];
    w[i] -= lr * v[i];
  }
}

template <class T>
void rule(const ops::UpdateSpan<T>& s, const ops::UpdateCoeffs<T>& k) {
  ops::with_simd([&] { loop<T>(s.w, s.m0, s.g, s.n, k.alpha, k.beta1); });
}

constexpr ops::UpdateRule momentum_rule{"momentum", 1, 0, &rule<float>, &rule<double>};

}  // namespace

extern const Optimizer momentum_optimizer{OptimizerKind::momentum, "momentum", {"v"}, false,
                                          hyper::beta1, nullptr, equations, &momentum_rule};

}  // namespace dagrad::optim
