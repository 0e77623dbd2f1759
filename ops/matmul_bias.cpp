// y = s op(a) op(b) + broadcast(c)      c is (n,1), (1,m), (1,1) or (n,m)
//
// The bias add of Z = W A + b fused into the GEMM: y is first filled with the
// broadcast c, then one GEMM accumulates into it with beta = 1, so Z is
// written once instead of written and then re-read by a separate add.
// NOTE: made only by passes::optimize (passes/fuse.cpp); it has no gradient
// rule, so differentiate before optimizing.
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape matmul_bias_shape(const ShapeCall& c) {
  auto op = [](Shape s, bool t) { return t ? Shape{s.cols, s.rows} : s; };
  const Shape a = op(c.graph.node(c.inputs[0]).shape, c.attrs.get<MatmulAttrs>().trans_a);
  const Shape b = op(c.graph.node(c.inputs[1]).shape, c.attrs.get<MatmulAttrs>().trans_b);
  const Shape bias = c.graph.node(c.inputs[2]).shape;
  if (a.cols != b.rows)
    throw ShapeError(fmt::format("{}: inner dimensions {} != {}", operands(c, ","),
                                 to_string_dim(a.cols), to_string_dim(b.rows)));
  const Shape y{a.rows, b.cols};
  if (!broadcasts_to(bias, y))
    throw ShapeError(fmt::format("{}: bias does not broadcast to {}", operands(c, ","),
                                 to_string(y)));
  return y;
}

template <class T>
void matmul_bias_kernel(const KernelCall& c) {
  map_binary<T>(c.in[2], c.in[2], c.out, [](T v, T) { return v; }, c.run.threads);
  gemm<T>(c.in[0], c.node.attr<MatmulAttrs>().trans_a, c.in[1], c.node.attr<MatmulAttrs>().trans_b,
          static_cast<T>(scale_of(c)), T(1), c.out);
}

}  // namespace

extern const OpDef matmul_bias_op{OpKind::matmul_bias, "matmul_bias", 3, matmul_bias_shape,
                                  DAGRAD_KERNELS(matmul_bias_kernel), nullptr, true, 0, nullptr, 0,
                                  attrs_index<MatmulAttrs>()};

}  // namespace dagrad::ops
