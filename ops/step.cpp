// y      = 1 if x > 0 else slope     the derivative mask of relu (slope 0)
//                                    and leaky_relu (slope 0.01)
// dy/dx  = 0 almost everywhere
// grad_x = 0                         (a zero constant: nothing flows back)
#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void step_kernel(const KernelCall& c) {
  const T low = static_cast<T>(c.node.attr<SlopeAttrs>().slope);
  map_unary<T>(c, [low](T x) { return act::step(x, low); });
}

std::vector<Expr> step_grad(const GradCall& c) {
  return {c.graph.constant(0.0, c.x[0].shape())};
}

}  // namespace

extern const OpDef step_op{OpKind::step, "step", 1, same_as_input, DAGRAD_KERNELS(step_kernel),
                           step_grad, false, 0, nullptr, 0, attrs_index<SlopeAttrs>()};

}  // namespace dagrad::ops
