// J      = -(1/m) sum(y log a),  a = softmax(z) per column, y one-hot (K x m)
//        = -(1/m) sum(y ((z - max) - log sum e^(z - max)))   (stable)
// dJ/dz  = (1/m) (a - y)           because each column of y sums to 1
// grad_z = (g/m) (a - y)
// grad_y = -(g/m) log a
//
// Like bce_logits, the rule asks for softmax(z) and gets the forward A back
// through hash-consing: the notes' dZ[L] = A[L] - Y.
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
void softmax_ce_kernel(const KernelCall& c) {
  check_label_columns<T>(c, c.in[1]);
  const T* z = c.in[0].as<T>();
  const T* y = c.in[1].as<T>();
  const std::int64_t rows = c.in[0].shape.rows, cols = c.in[0].shape.cols;
  // NOTE: the cost is accumulated in long double. A gradient check
  // differences two costs 2 eps apart; a double sum's rounding (~sqrt(m) ulps
  // of the running total) would otherwise be most of that difference.
  long double total = 0.0L;
  for (std::int64_t j = 0; j < cols; ++j) {
    const double top = act::column_max(z + j, rows, cols);
    double norm = 0.0;
    for (std::int64_t k = 0; k < rows; ++k) norm += act::softmax_exp(double(z[k * cols + j]), top);
    const double log_total = costs::log_total(norm);
    for (std::int64_t k = 0; k < rows; ++k)
      if (y[k * cols + j] != T(0))  // 0 log 0 adds nothing, even for z = -inf
        total += costs::softmax_ce_term(double(z[k * cols + j]) - top, double(y[k * cols + j]), log_total);
  }
  c.out.as<T>()[0] = static_cast<T>(-total / cost_divisor(c));
}

std::vector<Expr> softmax_ce_grad(const GradCall& c) {
  const Scale inv_m = per_column(c.x[0].shape());  // 1/m
  Expr z = c.x[0], y = c.x[1];
  Expr gz, gy;
  if (c.wanted[0]) gz = inv_m * mul(c.g, softmax(z) - y);
  if (c.wanted[1]) gy = -1.0 * inv_m * mul(c.g, log(softmax(z)));
  return {gz, gy};
}

}  // namespace

extern const OpDef softmax_ce_op{OpKind::softmax_ce, "softmax_cross_entropy", 2, cost_of_pair,
                                 DAGRAD_KERNELS(softmax_ce_kernel), softmax_ce_grad, true};

}  // namespace dagrad::ops
