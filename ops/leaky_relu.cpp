// y      = x if x > 0 else slope * x        (slope 0.01 by default)
// dy/dx  = 1 if x > 0 else slope
// grad_x = g * step(x, slope)
//
// NOTE: the kink at 0 takes the left derivative, slope.
#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void leaky_relu_kernel(const KernelCall& c) {
  const T slope = static_cast<T>(c.node.attr<SlopeAttrs>().slope);
  map_unary<T>(c, [slope](T x) { return act::leaky_relu(x, slope); });
}

std::vector<Expr> leaky_relu_grad(const GradCall& c) {
  return {mul(c.g, step(c.x[0], c.attrs.get<SlopeAttrs>().slope))};
}

}  // namespace

extern const OpDef leaky_relu_op{OpKind::leaky_relu, "leaky_relu", 1, same_as_input,
                                 DAGRAD_KERNELS(leaky_relu_kernel), leaky_relu_grad, false, 0, nullptr, 0,
                                 attrs_index<SlopeAttrs>()};

}  // namespace dagrad::ops
