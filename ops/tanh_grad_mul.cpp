// y = g * (1 - a^2)        tanh's backward step dZ = dA * (1 - A^2), from the
//                          forward output a = tanh(z), in one loop
// NOTE: made only by passes::optimize from mul(g, 1 - square(a)); no gradient
// rule.
#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void tanh_grad_mul_kernel(const KernelCall& c) {
  map_binary<T>(c, [](T g, T a) { return act::tanh_grad(g, a); });
}

}  // namespace

extern const OpDef tanh_grad_mul_op{OpKind::tanh_grad_mul, "tanh_grad_mul", 2,
                                    broadcast_binary, DAGRAD_KERNELS(tanh_grad_mul_kernel),
                                    nullptr, true};

}  // namespace dagrad::ops
