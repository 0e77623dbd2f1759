// J      = 1/(2m) sum((a - y)^2)        a, y (k x m): the regression cost
// dJ/da  = (a - y) / m
// grad_a = (g/m) (a - y)
// grad_y = -(g/m) (a - y)
//
// With an identity output A[L] = Z[L], dZ[L] = 1/m (A[L] - Y): the same
// form as the cross-entropy's with a sigmoid or softmax output.
#include <algorithm>

#include "dagrad/ops/cost_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void mse_kernel(const KernelCall& c) {
  const T* a = c.in[0].as<T>();
  const T* y = c.in[1].as<T>();
  // NOTE: compensated, like the cross-entropies: a gradient check differences
  // two costs 2 eps apart and needs every digit of the sum.
  constexpr std::int64_t block = 256;
  double terms[block];
  CompensatedSum4 total;
  const std::int64_t n = c.in[0].shape.size();
  for (std::int64_t i0 = 0; i0 < n; i0 += block) {
    const std::int64_t len = std::min(block, n - i0);
    for (std::int64_t k = 0; k < len; ++k) {
      terms[k] = costs::mse_term(double(a[i0 + k]), double(y[i0 + k]));
    }
    total.add(terms, len);
  }
  c.out.as<T>()[0] = static_cast<T>(costs::mse_factor * total.value() / cost_divisor(c));
}

std::vector<Expr> mse_grad(const GradCall& c) {
  const Scale inv_m = per_column(c.x[0].shape());  // 1/m
  Expr diff = c.x[0] - c.x[1];
  Expr ga, gy;
  if (c.wanted[0]) ga = inv_m * mul(c.g, diff);
  if (c.wanted[1]) gy = -1.0 * inv_m * mul(c.g, diff);
  return {ga, gy};
}

}  // namespace

extern const OpDef mse_op{OpKind::mse, "mean_squared_error", 2, cost_of_pair,
                          DAGRAD_KERNELS(mse_kernel), mse_grad, true};

}  // namespace dagrad::ops
