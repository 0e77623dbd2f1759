// J      = -(1/m) sum(y log a + (1 - y) log(1 - a)),   a = sigmoid(z)
//        =  (1/m) sum(max(z, 0) - z y + log(1 + e^-|z|))   (stable: no log 0)
// dJ/dz  = (1/m) (sigmoid(z) - y) = (1/m) (a - y)
// grad_z = (g/m) (a - y)
// grad_y = -(g/m) z
//
// This is the notes' dZ[L] = A[L] - Y, reached by a fused rule rather than by
// chaining dA = -(y/a - (1-y)/(1-a)) through sigmoid'(z). The rule asks for
// sigmoid(z); the graph's hash-consing hands back the forward node A[L], so
// nothing is recomputed.
#include <algorithm>
#include <cmath>

#include "dagrad/ops/cost_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/labels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void bce_logits_kernel(const KernelCall& c) {
  check_binary_labels<T>(c, c.in[1]);
  const T* z = c.in[0].as<T>();
  const T* y = c.in[1].as<T>();
  // The transcendental tail log(1 + e^-|z|) is computed in vectorized blocks.
  constexpr std::int64_t block = 256;
  T tail[block];
  double terms[block];
  // NOTE: a gradient check differences two costs 2 eps apart, so the sum must
  // keep its digits: a plain double sum loses ~sqrt(m) ulps of the running
  // total. Four compensated (TwoSum) partial sums keep the error near one ulp
  // of the result for any m, and unlike a long double sum they vectorize.
  CompensatedSum4 total;
  const std::int64_t n = c.in[0].shape.size();
  for (std::int64_t i0 = 0; i0 < n; i0 += block) {
    const std::int64_t len = std::min(block, n - i0);
    costs::log1p_tail(z + i0, tail, len);
    for (std::int64_t k = 0; k < len; ++k) {
      terms[k] = costs::bce_logits_term(double(z[i0 + k]), double(y[i0 + k]), double(tail[k]));
    }
    total.add(terms, len);
  }
  c.out.as<T>()[0] = static_cast<T>(total.value() / cost_divisor(c));
}

std::vector<Expr> bce_logits_grad(const GradCall& c) {
  const Scale inv_m = per_column(c.x[0].shape());  // 1/m
  Expr z = c.x[0], y = c.x[1];
  Expr gz, gy;
  if (c.wanted[0]) gz = inv_m * mul(c.g, sigmoid(z) - y);
  if (c.wanted[1]) gy = -1.0 * inv_m * mul(c.g, z);
  return {gz, gy};
}

}  // namespace

extern const OpDef bce_logits_op{OpKind::bce_logits, "binary_cross_entropy_logits", 2,
                                 cost_of_pair, DAGRAD_KERNELS(bce_logits_kernel),
                                 bce_logits_grad, true};

}  // namespace dagrad::ops
