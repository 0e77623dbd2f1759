// y      = 1 / (1 + exp(-x))
// dy/dx  = y * (1 - y)
// grad_x = g * y * (1 - y)      reads the output y, not x
#include <cmath>

#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void sigmoid_kernel(const KernelCall& c) {
  map_array<T>(c, [](const T* x, T* y, std::int64_t n) { act::sigmoid(x, y, n); });
}

std::vector<Expr> sigmoid_grad(const GradCall& c) {
  return {mul(c.g, mul(c.y, 1.0 - c.y))};
}

}  // namespace

extern const OpDef sigmoid_op{OpKind::sigmoid, "sigmoid", 1, same_as_input,
                              DAGRAD_KERNELS(sigmoid_kernel), sigmoid_grad, true};

}  // namespace dagrad::ops
