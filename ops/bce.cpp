// J      = -(1/m) sum(y log a + (1 - y) log(1 - a))      a, y (1 x m), y in {0,1}
// dJ/da  = -(1/m) (y/a - (1 - y)/(1 - a)) = (a - y) / (m a (1 - a))
// grad_a = g (a - y) / (m a (1 - a))
// grad_y = -(g/m) (log a - log(1 - a))
//
// This is the unfused cost for an `a` that is not a sigmoid's output; when it
// is, the DSL builds bce_logits instead (ops/bce_logits.cpp).
// NOTE: with y exactly 0 or 1 only one log is taken per element, so a = 0
// with y = 0 costs 0 (not 0 * log 0 = NaN); a = 0 with y = 1 costs +inf,
// which is the true cost.
#include <cmath>

#include "dagrad/ops/cost_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/labels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void bce_kernel(const KernelCall& c) {
  check_binary_labels<T>(c, c.in[1]);
  const T* a = c.in[0].as<T>();
  const T* y = c.in[1].as<T>();
  // NOTE: the cost is accumulated in long double. A gradient check
  // differences two costs 2 eps apart; a double sum's rounding (~sqrt(m) ulps
  // of the running total) would otherwise be most of that difference.
  long double total = 0.0L;
  for (std::int64_t i = 0; i < c.in[0].shape.size(); ++i)
    total += costs::bce_term(static_cast<double>(a[i]), y[i] == T(1));
  c.out.as<T>()[0] = static_cast<T>(-total / cost_divisor(c));
}

std::vector<Expr> bce_grad(const GradCall& c) {
  const Scale inv_m = per_column(c.x[0].shape());  // 1/m
  Expr a = c.x[0], y = c.x[1];
  Expr ga, gy;
  if (c.wanted[0]) ga = inv_m * mul(c.g, (a - y) / mul(a, 1.0 - a));
  if (c.wanted[1]) gy = -1.0 * inv_m * mul(c.g, log(a) - log(1.0 - a));
  return {ga, gy};
}

}  // namespace

extern const OpDef bce_op{OpKind::bce, "binary_cross_entropy", 2, cost_of_pair,
                          DAGRAD_KERNELS(bce_kernel), bce_grad, true};

}  // namespace dagrad::ops
