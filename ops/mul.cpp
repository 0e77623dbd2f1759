// y      = a * b           element-wise, broadcasting as for add
// dy/da  = b,  dy/db = a
// grad_a = g * b,  grad_b = g * a
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void mul_kernel(const KernelCall& c) {
  map_binary<T>(c, [](T a, T b) { return a * b; });
}

std::vector<Expr> mul_grad(const GradCall& c) {
  return {c.wanted[0] ? mul(c.g, c.x[1]) : Expr{}, c.wanted[1] ? mul(c.g, c.x[0]) : Expr{}};
}

}  // namespace

extern const OpDef mul_op{OpKind::mul, "mul", 2, broadcast_binary, DAGRAD_KERNELS(mul_kernel),
                          mul_grad, true};

}  // namespace dagrad::ops
