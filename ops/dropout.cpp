// y      = a * D / keep_prob      while training (inverted dropout)
//        = a                      in inference, where D is all ones and the
//                                 division is skipped
// dy/da  = D / keep_prob
// grad_a = g * D / keep_prob      = dropout(g, D): the same op on the same mask
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape dropout_shape(const ShapeCall& c) {
  const Shape a = c.graph.node(c.inputs[0]).shape;
  const Shape d = c.graph.node(c.inputs[1]).shape;
  if (a != d) throw ShapeError(fmt::format("{}: the mask must have the activation's shape",
                                           operands(c, ",")));
  return a;
}

template <class T>
void dropout_kernel(const KernelCall& c) {
  if (!c.run.training) {
    std::copy_n(c.in[0].as<T>(), c.out.shape.size(), c.out.as<T>());
    return;
  }
  const T inv = static_cast<T>(1.0 / c.node.attr<DropoutAttrs>().keep_prob);
  map_binary<T>(c, [inv](T a, T d) { return a * d * inv; });
}

std::vector<Expr> dropout_grad(const GradCall& c) {
  return {c.wanted[0] ? dropout(c.g, c.x[1]) : Expr{}, Expr{}};
}

}  // namespace

extern const OpDef dropout_op{OpKind::dropout, "dropout", 2, dropout_shape,
                              DAGRAD_KERNELS(dropout_kernel), dropout_grad, true, 0, nullptr, 0,
                              attrs_index<DropoutAttrs>()};

}  // namespace dagrad::ops
