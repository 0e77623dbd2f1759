// Every cost's terms and gradient, written once. A cost J sums one term per
// element of its (K x m) operands and divides by m, the batch's sample
// count (cost_divisor in ops/op.hpp: batch_of, the global batch of a
// data-parallel run); the cost ops (ops/bce.cpp ... ops/l2_penalty.cpp) and
// the narrow-net kernel (ops/fused_net_kernel.cpp) both take their terms
// from here. A rule is a template over its value type V: a float or a
// double (the ops), or a GCC vector of them (the fused kernel's tile).
//
// The sums: a gradient check differences two costs 2 eps apart, so a cost's
// sum must keep its digits; a plain double sum loses ~sqrt(m) ulps of the
// running total. The costs sum their terms in CompensatedSum4
// (ops/kernels.hpp) or in long double.
//
// The gradients the reverse pass builds (the ops' `*_grad`) are graphs of
// the same formulas: the cross-entropies of a sigmoid or softmax output and
// the squared error of a linear one all reach the notes' dZ[L] = A[L] - Y.
#pragma once

#include <cmath>
#include <cstdint>

#include "dagrad/ops/activation_rule.hpp"

// NOTE: -Wpsabi: see ops/activation_rule.hpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dagrad::ops::costs {

#define DAGRAD_RULE inline __attribute__((always_inline))

// dJ/dZ[L] = (1/m) (A[L] - Y) for each output cost below with its own
// output function (sigmoid, softmax, identity): the delta before the 1/m.
template <class V>
DAGRAD_RULE V output_delta(V a, V y) {
  return a - y;
}

// Binary cross-entropy of probabilities a (ops/bce.cpp)
//   J     = -(1/m) sum(y log a + (1 - y) log(1 - a)),   y in {0, 1}
//   dJ/da = (a - y) / (m a (1 - a))
// NOTE: with y exactly 0 or 1 only one log is taken, so a = 0 with y = 0
// costs 0 (not 0 log 0 = NaN); a = 0 with y = 1 costs +inf, the true cost.
// The term is the sum's, before the minus sign.
inline double bce_term(double a, bool y_is_one) {
  return y_is_one ? std::log(a) : std::log1p(-a);
}

// Binary cross-entropy of logits z, a = sigmoid(z) (ops/bce_logits.cpp)
//   J     = (1/m) sum(max(z, 0) - z y + log(1 + e^-|z|))   (stable: no log 0)
//   dJ/dz = (1/m) (sigmoid(z) - y) = (1/m) output_delta(a, y)
// `tail` is log(1 + e^-|z|): over arrays vec::softplus_neg_abs, on the
// fused kernel's float vectors log1p_tail from the sigmoid's parts.
template <class V>
DAGRAD_RULE V bce_logits_term(V z, V y, V tail) {
  return act::relu(z) - z * y + tail;
}
inline void log1p_tail(const float* z, float* tail, std::int64_t n) {
  vec::softplus_neg_abs(z, tail, n);
}
inline void log1p_tail(const double* z, double* tail, std::int64_t n) {
  vec::softplus_neg_abs(z, tail, n);
}
// log(1 + e) with e = e^-|z| and q = 1 / (1 + e), both at hand from
// act::sigmoid_parts.
DAGRAD_RULE fast::f32x8 log1p_tail(const act::SigmoidF32x8& s) {
  return fast::log1p_unit_inv(s.e, s.q);
}

// Squared error (ops/mse.cpp), the regression cost of a linear output
//   J     = 1/(2m) sum((a - y)^2) = mse_factor / m * sum(mse_term)
//   dJ/da = (1/m) output_delta(a, y)
inline constexpr double mse_factor = 0.5;
template <class V>
DAGRAD_RULE V mse_term(V a, V y) {
  const V d = a - y;
  return d * d;
}

// Categorical cross-entropy of probabilities a (ops/categorical_ce.cpp)
//   J     = -(1/m) sum(y log a)
//   dJ/da = -(1/m) y / a
// The term is the sum's, before the minus sign; a y of 0 adds nothing
// (not 0 log 0 = NaN).
inline double categorical_ce_term(double a, double y) {
  return y != 0.0 ? y * std::log(a) : 0.0;
}

// Softmax cross-entropy of logits z, a = softmax(z) per column
// (ops/softmax_ce.cpp)
//   J     = -(1/m) sum(y log a) = -(1/m) sum(y ((z - top) - log_total)),
//           top = max_j z_j,  log_total = log sum_j e^(z_j - top)
//   (stable: act::column_max, act::softmax_exp; z - top is exact where a
//   is largest, so the term keeps its digits even in float)
//   dJ/dz = (1/m) output_delta(a, y)      each column of y sums to 1
// The term is the sum's, before the minus sign.
template <class T>
DAGRAD_RULE T log_total(T total) {
  return std::log(total);
}
DAGRAD_RULE fast::f32x8 log_total(fast::f32x8 total) { return fast::log_pos(total); }
template <class V>
DAGRAD_RULE V softmax_ce_term(V shifted, V y, V log_total) {
  return y * (shifted - log_total);
}

// The L2 penalty over every weight matrix W[l] (ops/l2_penalty.cpp)
//   J     = lambda/(2m) sum_l ||W[l]||_F^2 = l2_factor(lambda, m) sum(w^2)
//   dJ/dW = (lambda/m) W                   the notes' + lambda/m W[l]
// m is the penalty's own count, or the batch's sample count (batch_of).
inline double l2_factor(double lambda, double m) { return lambda / (2.0 * m); }
inline double l2_term(double w) { return w * w; }
template <class T>
DAGRAD_RULE T l2_grad(T lambda_over_m, T w) {
  return lambda_over_m * w;
}

#undef DAGRAD_RULE

}  // namespace dagrad::ops::costs

#pragma GCC diagnostic pop
