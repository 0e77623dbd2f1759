// y      = ln x
// dy/dx  = 1/x
// grad_x = g / x
#include <cmath>

#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/vecmath.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void log_kernel(const KernelCall& c) {
  map_array<T>(c, [](const T* x, T* y, std::int64_t n) { vec::log(x, y, n); });
}

std::vector<Expr> log_grad(const GradCall& c) { return {c.g / c.x[0]}; }

}  // namespace

extern const OpDef log_op{OpKind::log, "log", 1, same_as_input, DAGRAD_KERNELS(log_kernel),
                          log_grad, true};

}  // namespace dagrad::ops
