// Every activation's value and derivative, written once. The element-wise
// kernels (ops/relu.cpp ... ops/tanh_grad_mul.cpp) run them over a matrix
// and the narrow-net kernel (ops/fused_net_kernel.cpp) over a tile of GCC
// vectors, so the two paths share each formula. A rule is a template over
// its value type V: a float or a double (the ops), or a vector of them (the
// fused kernel's tile); V{} is zero in both. Where a vector path needs its
// own form (float tanh and sigmoid on fast::f32x8), the form sits beside the
// scalar one here. The gradient rules the reverse pass builds (the ops'
// `*_grad`) are graphs of the same formulas; passes::optimize turns them into
// the *_grad_mul kernels below.
//
// The derivatives read what the backward step has at hand: the input x for
// relu and leaky_relu, the output y for tanh and sigmoid.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "dagrad/ops/fast_math.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/vecmath.hpp"

// NOTE: -Wpsabi warns that 32-byte vector arguments change the calling
// convention without -mavx; the vector forms are always inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dagrad::ops::act {

#define DAGRAD_RULE inline __attribute__((always_inline))

// c ? a : b, element by element: for scalars the bitwise select of
// ops/kernels.hpp (it vectorizes where ?: feeding a multiply would branch),
// for GCC vectors their element-wise ?: .
template <class V>
DAGRAD_RULE V where(decltype(V{} > V{}) c, V a, V b) {
  if constexpr (std::is_floating_point_v<V>) return select(c, a, b);
  else return c ? a : b;
}

// relu
//   y     = max(0, x)
//   dy/dx = step(x, 0)
// NOTE: not differentiable at 0; like the notes we take 0 there.
template <class V>
DAGRAD_RULE V relu(V x) {
  return where(x > V{}, x, V{});
}

// step: the derivative of relu (low = 0) and of leaky_relu (low = slope)
//   y = 1 if x > 0 else low
template <class V>
DAGRAD_RULE V step(V x, V low) {
  return where(x > V{}, V{} + 1, low);
}

// leaky_relu
//   y     = x if x > 0 else slope x  =  x step(x, slope)   (x * 1 is x)
//   dy/dx = step(x, slope)
// NOTE: the kink at 0 takes the left derivative, slope.
template <class V>
DAGRAD_RULE V leaky_relu(V x, V slope) {
  return x * step(x, slope);
}

// grad_x = g step(x, low): relu's and leaky_relu's backward step
// dZ = dA g'(Z). The factor is selected, then multiplied, so that NaN * 0
// stays NaN as in mul(g, step(x)).
template <class V>
DAGRAD_RULE V step_grad(V g, V x, V low) {
  return g * step(x, low);
}

// tanh
//   y     = tanh(x)
//   dy/dx = 1 - y^2                 from the output y
// Over arrays through ops/vecmath (SLEEF, 1 ulp in double, 3.5 in float);
// on the fused kernel's float vectors through ops/fast_math (2.43 ulp).
inline void tanh(const float* x, float* y, std::int64_t n) { vec::tanh(x, y, n); }
inline void tanh(const double* x, double* y, std::int64_t n) { vec::tanh(x, y, n); }
DAGRAD_RULE fast::f32x8 tanh(fast::f32x8 x) { return fast::tanh(x); }

// grad_x = g (1 - y^2)
template <class V>
DAGRAD_RULE V tanh_grad(V g, V y) {
  return g * (1 - y * y);
}

// sigmoid
//   y     = 1 / (1 + e^-x)
//   dy/dx = y (1 - y)               from the output y
// NOTE: over arrays, for x << 0, e^-x overflows to inf and 1/(1+inf) = 0
// exactly, the right limit. On float vectors the stable form: with
// e = e^-|x| and q = 1 / (1 + e), y = q for x >= 0 and e q below; e and q
// are kept, since the cross-entropy's log(1 + e^-|x|) reuses them.
inline void sigmoid(const float* x, float* y, std::int64_t n) { vec::sigmoid(x, y, n); }
inline void sigmoid(const double* x, double* y, std::int64_t n) { vec::sigmoid(x, y, n); }
struct SigmoidF32x8 {
  fast::f32x8 e, q, y;
};
DAGRAD_RULE SigmoidF32x8 sigmoid_parts(fast::f32x8 x) {
  const fast::f32x8 e = fast::exp_neg(-fast::abs(x));
  const fast::f32x8 q = 1.0f / (1.0f + e);
  return {e, q, where(x >= 0.0f, q, e * q)};
}
DAGRAD_RULE fast::f32x8 sigmoid(fast::f32x8 x) { return sigmoid_parts(x).y; }

// grad_x = g y (1 - y)
template <class V>
DAGRAD_RULE V sigmoid_grad(V g, V y) {
  return g * (y * (1 - y));
}

// softmax over K values of one column, z[0], z[stride], ...
//   y_k   = e^(z_k - top) / sum_j e^(z_j - top),   top = max_j z_j
//   dy/dz = diag(y) - y y^T         (a graph rule: ops/softmax.cpp)
// Subtracting the column's largest value keeps every exponential finite.
template <class V>
DAGRAD_RULE V column_max(const V* z, std::int64_t K, std::int64_t stride) {
  V top = z[0];
  for (std::int64_t k = 1; k < K; ++k) top = where(z[k * stride] > top, z[k * stride], top);
  return top;
}

// e^(z - top), at most 1: std::exp for scalars; on float vectors
// fast::exp_neg, whose domain z - top <= 0 is this one.
template <class T>
DAGRAD_RULE T softmax_exp(T z, T top) {
  return std::exp(z - top);
}
DAGRAD_RULE fast::f32x8 softmax_exp(fast::f32x8 z, fast::f32x8 top) { return fast::exp_neg(z - top); }

#undef DAGRAD_RULE

}  // namespace dagrad::ops::act

#pragma GCC diagnostic pop
