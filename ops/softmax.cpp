// y      = softmax(z) per column: y(k) = e^z(k) / sum_j e^z(j)     (K x m)
// dy/dz  = diag(y) - y y^T                                         per column
// grad_z = y * (g - sum(g * y, axis=0))                            reads y
#include <algorithm>
#include <cmath>

#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

// Column-wise softmax of a row-major (K x m) matrix into y; shared with the
// fused cost in softmax_ce.cpp. Subtracting the column max keeps exp finite.
template <class T>
void softmax_columns(const T* z, T* y, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t j = 0; j < cols; ++j) {
    const T top = act::column_max(z + j, rows, cols);
    double total = 0.0;
    for (std::int64_t k = 0; k < rows; ++k) {
      y[k * cols + j] = act::softmax_exp(z[k * cols + j], top);
      total += y[k * cols + j];
    }
    for (std::int64_t k = 0; k < rows; ++k)
      y[k * cols + j] = static_cast<T>(y[k * cols + j] / total);
  }
}
template void softmax_columns<float>(const float*, float*, std::int64_t, std::int64_t);
template void softmax_columns<double>(const double*, double*, std::int64_t, std::int64_t);

namespace {

template <class T>
void softmax_kernel(const KernelCall& c) {
  softmax_columns(c.in[0].as<T>(), c.out.as<T>(), c.out.shape.rows, c.out.shape.cols);
}

std::vector<Expr> softmax_grad(const GradCall& c) {
  return {mul(c.y, c.g - sum(mul(c.g, c.y), 0))};
}

}  // namespace

extern const OpDef softmax_op{OpKind::softmax, "softmax", 1, same_as_input,
                              DAGRAD_KERNELS(softmax_kernel), softmax_grad, true};

}  // namespace dagrad::ops
