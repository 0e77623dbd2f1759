// y      = a^b                     element-wise, broadcasting
// dy/da  = b a^(b-1)
// dy/db  = a^b log a = y log a      reads the output y
// grad_a = g * b * a^(b-1)
// grad_b = g * y * log(a)
//
// The optimizers' bias correction 1 - beta1^t is pow(beta1, t) with t the
// step count (train::minimize).
#include <cmath>

#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void pow_kernel(const KernelCall& c) {
  map_binary<T>(c, [](T a, T b) { return std::pow(a, b); });
}

std::vector<Expr> pow_grad(const GradCall& c) {
  Expr a = c.x[0], b = c.x[1];
  Expr ga, gb;
  if (c.wanted[0]) ga = mul(c.g, mul(b, pow(a, b - 1.0)));
  if (c.wanted[1]) gb = mul(c.g, mul(c.y, log(a)));
  return {ga, gb};
}

}  // namespace

extern const OpDef pow_op{OpKind::pow, "pow", 2, broadcast_binary, DAGRAD_KERNELS(pow_kernel),
                          pow_grad, true};

}  // namespace dagrad::ops
