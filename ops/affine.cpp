// y      = s x + o         scalar arithmetic: 2 * x, x + 1, 1 - x, x / m
//                          (s may hold a power of the sample count m: 1/m)
// dy/dx  = s
// grad_x = s g
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void affine_kernel(const KernelCall& c) {
  const T s = static_cast<T>(scale_of(c)), o = static_cast<T>(c.node.attr<AffineAttrs>().offset);
  // Without an offset the product alone: s x + 0 would turn -0 into +0.
  if (o == T(0)) return map_unary<T>(c, [s](T x) { return s * x; });
  map_unary<T>(c, [s, o](T x) { return s * x + o; });
}

std::vector<Expr> affine_grad(const GradCall& c) { return {c.attrs.scale_factor() * c.g}; }

}  // namespace

extern const OpDef affine_op{OpKind::affine, "affine", 1, same_as_input,
                             DAGRAD_KERNELS(affine_kernel), affine_grad, true, 0, nullptr, 0,
                             attrs_index<AffineAttrs>()};

}  // namespace dagrad::ops
