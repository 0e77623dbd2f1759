// y      = x repeated to the node's shape; x is (n,1), (1,m) or (1,1)
// dy/dx  = 1 for each copy
// grad_x = g, summed back to x's shape by the autodiff driver's one
//          un-broadcast helper
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape broadcast_shape(const ShapeCall& c) {
  const Shape x = c.graph.node(c.inputs[0]).shape;
  const Shape to = given_shape(c);
  if (!broadcasts_to(x, to))
    throw ShapeError(fmt::format("{}: cannot broadcast to {}", operands(c, ","), to_string(to)));
  return to;
}

template <class T>
void broadcast_kernel(const KernelCall& c) {
  map_binary<T>(c.in[0], c.in[0], c.out, [](T a, T) { return a; }, c.run.threads);
}

std::vector<Expr> broadcast_grad(const GradCall& c) { return {c.g}; }

}  // namespace

extern const OpDef broadcast_op{OpKind::broadcast, "broadcast", 1, broadcast_shape,
                                DAGRAD_KERNELS(broadcast_kernel), broadcast_grad, true};

}  // namespace dagrad::ops
