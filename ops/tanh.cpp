// y      = tanh(x)
// dy/dx  = 1 - y^2
// grad_x = g * (1 - y^2)        reads the output y, not x
#include <cmath>

#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void tanh_kernel(const KernelCall& c) {
  map_array<T>(c, [](const T* x, T* y, std::int64_t n) { act::tanh(x, y, n); });
}

std::vector<Expr> tanh_grad(const GradCall& c) { return {mul(c.g, 1.0 - square(c.y))}; }

}  // namespace

extern const OpDef tanh_op{OpKind::tanh, "tanh", 1, same_as_input, DAGRAD_KERNELS(tanh_kernel),
                           tanh_grad, true};

}  // namespace dagrad::ops
