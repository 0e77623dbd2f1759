// Adam, the notes' form with their bias correction (t = 1, 2, ...):
//   v_dW      = beta1 v_dW + (1 - beta1) dW
//   s_dW      = beta2 s_dW + (1 - beta2) dW^2
//   v_corr_dW = v_dW / (1 - beta1^t),  s_corr_dW = s_dW / (1 - beta2^t)
//   W         = W - alpha v_corr_dW / (sqrt(s_corr_dW) + epsilon)
// Two moments per parameter (v, s) and the step count t; c1 = 1 - beta1^t
// and c2 = 1 - beta2^t are computed once per step.
#include <cmath>

#include "dagrad/ops/kernels.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::optim {

StepScalars adam_scalars(Builder& b, Expr t, Expr, const OptimizerConfig& c) {
  const Expr c1 = b.scaled(b.op(OpKind::pow, {b.constant(c.beta1), t}), -1.0, 1.0);
  const Expr c2 = b.scaled(b.op(OpKind::pow, {b.constant(c.beta2), t}), -1.0, 1.0);
  return {c1, c2};
}

Expr adam_step(Builder& b, const ParamStep& p, const OptimizerConfig& c) {
  const Expr v = b.assign(p.moment(0), b.average(p.moment(0), p.dW, c.beta1));
  const Expr s = b.assign(p.moment(1), b.average(p.moment(1), b.op(OpKind::square, {p.dW}), c.beta2));
  const Expr v_corr = b.named(b.op(OpKind::div, {v, p.scalars[0]}), "v_corr_" + p.d);
  const Expr s_corr = b.named(b.op(OpKind::div, {s, p.scalars[1]}), "s_corr_" + p.d);
  // alpha v_corr / (sqrt(s_corr) + epsilon), multiplied first as the loop does.
  return b.op(OpKind::div, {b.op(OpKind::mul, {p.alpha, v_corr}),
                            b.scaled(b.op(OpKind::sqrt, {s_corr}), 1.0, c.epsilon)});
}

namespace {

Expr equations(Builder& b, const ParamStep& p, const OptimizerConfig& c) {
  return b.op(OpKind::sub, {p.W, adam_step(b, p, c)});
}

template <class T>
void loop(T* __restrict w, T* __restrict v, T* __restrict s, const T* __restrict g, std::int64_t n,
          T lr, T beta1, T beta2, T eps, T c1, T c2) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta1 * v[i] + (T(1) - beta1) * g[i];
    s[i] = beta2 * s[i] + (T(1) - beta2) * g[i] * g[i];
    w[i] -= lr * (v[i] / c1) / (std::sqrt(s[i] / c2) + eps);
  }
}

template <class T>
void rule(const ops::UpdateSpan<T>& s, const ops::UpdateCoeffs<T>& k) {
  ops::with_simd([&] {
    loop<T>(s.w, s.m0, s.m1, s.g, s.n, k.alpha, k.beta1, k.beta2, k.epsilon, k.step[0], k.step[1]);
  });
}

constexpr ops::UpdateRule adam_rule{"adam", 2, 2, &rule<float>, &rule<double>};

}  // namespace

extern const Optimizer adam_optimizer{OptimizerKind::adam, "adam", {"v", "s"}, true,
                                      hyper::beta1 | hyper::beta2 | hyper::epsilon, adam_scalars, equations,
                                      &adam_rule};

}  // namespace dagrad::optim
