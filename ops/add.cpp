// y      = a + b           (b may be (n,1), (1,m) or (1,1) and is broadcast)
// dy/da  = 1,  dy/db = 1
// grad_a = g,  grad_b = g  (summed back to b's shape by the autodiff driver:
//                           that is where db = 1/m sum(dZ, axis=1) comes from)
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void add_kernel(const KernelCall& c) {
  map_binary<T>(c, [](T a, T b) { return a + b; });
}

std::vector<Expr> add_grad(const GradCall& c) { return {c.g, c.g}; }

}  // namespace

extern const OpDef add_op{OpKind::add, "add", 2, broadcast_binary, DAGRAD_KERNELS(add_kernel),
                          add_grad, true};

}  // namespace dagrad::ops
