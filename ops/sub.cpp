// y      = a - b           (broadcasting as for add)
// dy/da  = 1,  dy/db = -1
// grad_a = g,  grad_b = -g
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void sub_kernel(const KernelCall& c) {
  map_binary<T>(c, [](T a, T b) { return a - b; });
}

std::vector<Expr> sub_grad(const GradCall& c) {
  return {c.g, c.wanted[1] ? -c.g : Expr{}};
}

}  // namespace

extern const OpDef sub_op{OpKind::sub, "sub", 2, broadcast_binary, DAGRAD_KERNELS(sub_kernel),
                          sub_grad, true};

}  // namespace dagrad::ops
