// J      = -(1/m) sum(y log a)          a, y (K x m)
// dJ/da  = -(1/m) y / a
// grad_a = -(g/m) y / a
// grad_y = -(g/m) log a
//
// The unfused cost for an `a` that is not a softmax output; for a softmax
// the DSL builds softmax_ce (ops/softmax_ce.cpp).
#include <cmath>

#include "dagrad/ops/cost_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void categorical_ce_kernel(const KernelCall& c) {
  const T* a = c.in[0].as<T>();
  const T* y = c.in[1].as<T>();
  // NOTE: the cost is accumulated in long double. A gradient check
  // differences two costs 2 eps apart; a double sum's rounding (~sqrt(m) ulps
  // of the running total) would otherwise be most of that difference.
  long double total = 0.0L;
  for (std::int64_t i = 0; i < c.in[0].shape.size(); ++i)
    total += costs::categorical_ce_term(static_cast<double>(a[i]), static_cast<double>(y[i]));
  c.out.as<T>()[0] = static_cast<T>(-total / cost_divisor(c));
}

std::vector<Expr> categorical_ce_grad(const GradCall& c) {
  const Scale inv_m = per_column(c.x[0].shape());  // 1/m
  Expr a = c.x[0], y = c.x[1];
  Expr ga, gy;
  if (c.wanted[0]) ga = -1.0 * inv_m * mul(c.g, y / a);
  if (c.wanted[1]) gy = -1.0 * inv_m * mul(c.g, log(a));
  return {ga, gy};
}

}  // namespace

extern const OpDef categorical_ce_op{OpKind::categorical_ce, "categorical_cross_entropy", 2,
                                     cost_of_pair, DAGRAD_KERNELS(categorical_ce_kernel),
                                     categorical_ce_grad, true};

}  // namespace dagrad::ops
