// The optimizers' element-wise steps, shared by the fused update ops
// (ops/sgd_update.cpp ... ops/adam_update.cpp) and by the fused narrow-net
// kernel (ops/fused_net_kernel.cpp), so that both apply the same arithmetic in the
// same order as the unfused nodes train::minimize builds:
//   gd        W -= alpha dW
//   momentum  v = b1 v + (1 - b1) dW;        W -= alpha v
//   rmsprop   s = b2 s + (1 - b2) dW^2;      W -= alpha dW / (sqrt(s) + eps)
//   adam      v, s as above;                 W -= alpha (v / c1) / (sqrt(s / c2) + eps)
#pragma once

#include <cmath>
#include <cstdint>

namespace dagrad::ops::rules {

template <class T>
void sgd(T* __restrict w, const T* __restrict g, std::int64_t n, T lr) {
  for (std::int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
}

template <class T>
void momentum(T* __restrict w, T* __restrict v, const T* __restrict g, std::int64_t n, T lr,
              T beta) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta * v[i] + (T(1) - beta) * g[i];
    w[i] -= lr * v[i];
  }
}

template <class T>
void rmsprop(T* __restrict w, T* __restrict s, const T* __restrict g, std::int64_t n, T lr,
             T beta2, T eps) {
  for (std::int64_t i = 0; i < n; ++i) {
    s[i] = beta2 * s[i] + (T(1) - beta2) * g[i] * g[i];
    w[i] -= lr * g[i] / (std::sqrt(s[i]) + eps);
  }
}

template <class T>
void adam(T* __restrict w, T* __restrict v, T* __restrict s, const T* __restrict g,
          std::int64_t n, T lr, T beta1, T beta2, T eps, T c1, T c2) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta1 * v[i] + (T(1) - beta1) * g[i];
    s[i] = beta2 * s[i] + (T(1) - beta2) * g[i] * g[i];
    w[i] -= lr * (v[i] / c1) / (std::sqrt(s[i] / c2) + eps);
  }
}

}  // namespace dagrad::ops::rules
