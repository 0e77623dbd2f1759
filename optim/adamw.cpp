// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled
// Weight Decay Regularization", ICLR 2019), as torch.optim.AdamW computes it
// (weight_decay 0.01 by default), with t = 1, 2, ...:
//   v_dW      = beta1 v_dW + (1 - beta1) dW
//   s_dW      = beta2 s_dW + (1 - beta2) dW^2
//   v_corr_dW = v_dW / (1 - beta1^t),  s_corr_dW = s_dW / (1 - beta2^t)
//   W         = (1 - alpha lambda_w) W - alpha v_corr_dW / (sqrt(s_corr_dW) + epsilon)
// The decay shrinks W itself and never enters the moments, unlike L2 (--l2)
// or torch.optim.Adam's weight_decay, which add lambda W to dW. Two moments
// per parameter (v, s) and t; c1, c2 and 1 - alpha lambda_w once per step.
#include <cmath>

#include "dagrad/ops/kernels.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::optim {

namespace {

StepScalars step(Builder& b, Expr t, Expr alpha, const OptimizerConfig& c) {
  StepScalars s = adam_scalars(b, t, alpha, c);  // c1, c2
  s[2] = b.scaled(alpha, -c.weight_decay, 1.0);   // 1 - alpha lambda_w
  return s;
}

Expr equations(Builder& b, const ParamStep& p, const OptimizerConfig& c) {
  return b.op(OpKind::sub, {b.op(OpKind::mul, {p.scalars[2], p.W}), adam_step(b, p, c)});
}

template <class T>
void loop(T* __restrict w, T* __restrict v, T* __restrict s, const T* __restrict g, std::int64_t n,
          T lr, T beta1, T beta2, T eps, T c1, T c2, T shrink) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta1 * v[i] + (T(1) - beta1) * g[i];
    s[i] = beta2 * s[i] + (T(1) - beta2) * (g[i] * g[i]);
    w[i] = shrink * w[i] - lr * (v[i] / c1) / (std::sqrt(s[i] / c2) + eps);
  }
}

template <class T>
void rule(const ops::UpdateSpan<T>& s, const ops::UpdateCoeffs<T>& k) {
  ops::with_simd([&] {
    loop<T>(s.w, s.m0, s.m1, s.g, s.n, k.alpha, k.beta1, k.beta2, k.epsilon, k.step[0], k.step[1],
            k.step[2]);
  });
}

constexpr ops::UpdateRule adamw_rule{"adamw", 2, 3, &rule<float>, &rule<double>};

}  // namespace

extern const Optimizer adamw_optimizer{OptimizerKind::adamw, "adamw", {"v", "s"}, true,
                                       hyper::beta1 | hyper::beta2 | hyper::epsilon | hyper::weight_decay,
                                       step, equations, &adamw_rule};

}  // namespace dagrad::optim
