// y      = sqrt(x)
// dy/dx  = 1 / (2 sqrt(x)) = 1 / (2y)
// grad_x = g / (2y)        reads the output y
#include <cmath>

#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void sqrt_kernel(const KernelCall& c) {
  map_unary<T>(c, [](T x) { return std::sqrt(x); });
}

std::vector<Expr> sqrt_grad(const GradCall& c) { return {c.g / (2.0 * c.y)}; }

}  // namespace

extern const OpDef sqrt_op{OpKind::sqrt, "sqrt", 1, same_as_input, DAGRAD_KERNELS(sqrt_kernel),
                           sqrt_grad, true};

}  // namespace dagrad::ops
