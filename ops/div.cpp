// y      = a / b           element-wise, broadcasting as for add
// dy/da  = 1/b,  dy/db = -a/b^2 = -y/b
// grad_a = g / b,  grad_b = -g * y / b      reads the output y
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void div_kernel(const KernelCall& c) {
  map_binary<T>(c, [](T a, T b) { return a / b; });
}

std::vector<Expr> div_grad(const GradCall& c) {
  return {c.wanted[0] ? c.g / c.x[1] : Expr{},
          c.wanted[1] ? -mul(c.g, c.y / c.x[1]) : Expr{}};
}

}  // namespace

extern const OpDef div_op{OpKind::div, "div", 2, broadcast_binary, DAGRAD_KERNELS(div_kernel),
                          div_grad, true};

}  // namespace dagrad::ops
