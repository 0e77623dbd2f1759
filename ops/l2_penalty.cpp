// J      = lambda/(2m) sum_l ||W[l]||_F^2          over every operand W[l]
//          m = L2Attrs::m, or the bound sample count when it is m_dim
// dJ/dW  = (lambda/m) W
// grad_W = g (lambda/m) W                           the notes' + lambda/m W[l]
#include "dagrad/ops/cost_rule.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape l2_shape(const ShapeCall&) { return Shape{1, 1}; }

template <class T>
void l2_kernel(const KernelCall& c) {
  // NOTE: the cost is accumulated in long double. A gradient check
  // differences two costs 2 eps apart; a double sum's rounding (~sqrt(m) ulps
  // of the running total) would otherwise be most of that difference.
  long double total = 0.0L;
  for (const Buffer& w : c.in) {
    const T* p = w.as<T>();
    for (std::int64_t i = 0; i < w.shape.size(); ++i) total += costs::l2_term(double(p[i]));
  }
  const L2Attrs& a = c.node.attr<L2Attrs>();
  const std::int64_t m = a.m == m_dim ? batch_of(c.run) : a.m;
  const double factor = costs::l2_factor(a.lambda, static_cast<double>(m));
  c.out.as<T>()[0] = static_cast<T>(factor * total);
}

std::vector<Expr> l2_grad(const GradCall& c) {
  const L2Attrs& a = c.attrs.get<L2Attrs>();
  const Scale factor = a.m == m_dim ? Scale(a.lambda, -1) : Scale(a.lambda / static_cast<double>(a.m));
  std::vector<Expr> out(c.x.size());
  for (std::size_t i = 0; i < c.x.size(); ++i)
    if (c.wanted[i]) out[i] = factor * mul(c.g, c.x[i]);
  return out;
}

}  // namespace

extern const OpDef l2_penalty_op{OpKind::l2_penalty, "l2_penalty", -1, l2_shape,
                                 DAGRAD_KERNELS(l2_kernel), l2_grad, true, 0, nullptr, 0,
                                 attrs_index<L2Attrs>()};

}  // namespace dagrad::ops
