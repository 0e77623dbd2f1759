// y      = x^T
// dy/dx  = the same permutation
// grad_x = g^T
//
// A transpose feeding a matmul never runs: the DSL folds it into the GEMM's
// transpose flag. This kernel is for the other uses.
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"
#include "dagrad/ops/transpose.hpp"

namespace dagrad::ops {

namespace {

Shape transpose_shape(const ShapeCall& c) {
  const Shape x = c.graph.node(c.inputs[0]).shape;
  return Shape{x.cols, x.rows};
}

template <class T>
void transpose_kernel(const KernelCall& c) {
  transpose_matrix(c.in[0].as<T>(), c.in[0].shape.rows, c.in[0].shape.cols, c.out.as<T>());
}

std::vector<Expr> transpose_grad(const GradCall& c) { return {transpose(c.g)}; }

}  // namespace

extern const OpDef transpose_op{OpKind::transpose, "transpose", 1, transpose_shape,
                                DAGRAD_KERNELS(transpose_kernel), transpose_grad, true};

}  // namespace dagrad::ops
