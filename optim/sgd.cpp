// Gradient descent ("gd"), the notes' update:
//   W = W - alpha dW
// No state per parameter.
#include "dagrad/ops/kernels.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::optim {

namespace {

Expr equations(Builder& b, const ParamStep& p, const OptimizerConfig&) {
  return b.op(OpKind::sub, {p.W, b.op(OpKind::mul, {p.alpha, p.dW})});
}

template <class T>
void loop(T* __restrict w, const T* __restrict g, std::int64_t n, T lr) {
  for (std::int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
}

template <class T>
void rule(const ops::UpdateSpan<T>& s, const ops::UpdateCoeffs<T>& k) {
  ops::with_simd([&] { loop<T>(s.w, s.g, s.n, k.alpha); });
}

constexpr ops::UpdateRule sgd_rule{"gd", 0, 0, &rule<float>, &rule<double>};

}  // namespace

extern const Optimizer gd_optimizer{OptimizerKind::gd, "gd", {}, false, 0, nullptr, equations, &sgd_rule};

}  // namespace dagrad::optim
