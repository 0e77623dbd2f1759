// y      = max(0, x)
// dy/dx  = 1 if x > 0 else 0
// grad_x = g * (x > 0)          the mask is step(x)
//
// NOTE: relu is not differentiable at 0; like the notes we take the
// derivative there to be 0. Gradient checks report inputs within eps of 0 as
// kinks rather than failures.
#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void relu_kernel(const KernelCall& c) {
  map_unary<T>(c, [](T x) { return act::relu(x); });
}

std::vector<Expr> relu_grad(const GradCall& c) { return {mul(c.g, step(c.x[0], 0.0))}; }

}  // namespace

extern const OpDef relu_op{OpKind::relu, "relu", 1, same_as_input, DAGRAD_KERNELS(relu_kernel),
                           relu_grad, false};

}  // namespace dagrad::ops
