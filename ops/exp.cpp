// y      = e^x
// dy/dx  = e^x = y
// grad_x = g * y           reads the output y, not x
#include <cmath>

#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/vecmath.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void exp_kernel(const KernelCall& c) {
  map_array<T>(c, [](const T* x, T* y, std::int64_t n) { vec::exp(x, y, n); });
}

std::vector<Expr> exp_grad(const GradCall& c) { return {mul(c.g, c.y)}; }

}  // namespace

extern const OpDef exp_op{OpKind::exp, "exp", 1, same_as_input, DAGRAD_KERNELS(exp_kernel),
                          exp_grad, true};

}  // namespace dagrad::ops
