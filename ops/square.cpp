// y      = x^2
// dy/dx  = 2x
// grad_x = 2 g * x
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void square_kernel(const KernelCall& c) {
  map_unary<T>(c, [](T x) { return x * x; });
}

std::vector<Expr> square_grad(const GradCall& c) { return {2.0 * mul(c.g, c.x[0])}; }

}  // namespace

extern const OpDef square_op{OpKind::square, "square", 1, same_as_input,
                             DAGRAD_KERNELS(square_kernel), square_grad, true};

}  // namespace dagrad::ops
