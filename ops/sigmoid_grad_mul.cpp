// y = g * a * (1 - a)      sigmoid's backward step dZ = dA * A (1 - A), from
//                          the forward output a = sigmoid(z), in one loop
// NOTE: made only by passes::optimize from mul(g, mul(a, 1 - a)); no gradient
// rule.
#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void sigmoid_grad_mul_kernel(const KernelCall& c) {
  map_binary<T>(c, [](T g, T a) { return act::sigmoid_grad(g, a); });
}

}  // namespace

extern const OpDef sigmoid_grad_mul_op{OpKind::sigmoid_grad_mul, "sigmoid_grad_mul", 2,
                                       broadcast_binary, DAGRAD_KERNELS(sigmoid_grad_mul_kernel),
                                       nullptr, true};

}  // namespace dagrad::ops
