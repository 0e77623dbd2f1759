// y      = -x
// dy/dx  = -1
// grad_x = -g
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void neg_kernel(const KernelCall& c) {
  map_unary<T>(c, [](T x) { return -x; });
}

std::vector<Expr> neg_grad(const GradCall& c) { return {-c.g}; }

}  // namespace

extern const OpDef neg_op{OpKind::neg, "neg", 1, same_as_input, DAGRAD_KERNELS(neg_kernel),
                          neg_grad, true};

}  // namespace dagrad::ops
