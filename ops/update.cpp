// W, moments := the optimizer's step of one parameter     in place
//
// operands: W, its moments (UpdateAttrs::rule->moments of them), dW, alpha and the
// optimizer's per-step scalars (UpdateAttrs::rule->step_scalars, each 1x1; Adam's
// c1 = 1 - beta1^t, c2 = 1 - beta2^t), computed once per step by the
// unfused scalar nodes. The loop is the optimizer's element rule
// (ops/update_rule.hpp), defined in its own file beside the update equations
// train::minimize builds; passes::optimize makes this node from those
// equations, which stay the reference. No gradient rule.
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"
#include "dagrad/ops/update_rule.hpp"

namespace dagrad::ops {

namespace {

const UpdateRule& rule_of(const UpdateAttrs& a) {
  if (!a.rule)
    throw GraphError("an update node needs its optimizer's rule: it is made by passes::optimize");
  return *a.rule;
}

// W and its moments, then dW, alpha and the step's scalars.
Shape update_op_shape(const ShapeCall& c) {
  const UpdateRule& r = rule_of(c.attrs.get<UpdateAttrs>());
  const std::size_t tensors = std::size_t(r.moments) + 2, want = tensors + 1 + std::size_t(r.step_scalars);
  if (c.inputs.size() != want)
    throw ShapeError(fmt::format("{} update: {} operands, not {}", r.name, c.inputs.size(), want));
  return update_shape(c, tensors);
}

std::size_t written(const Node& n) { return std::size_t(rule_of(n.attr<UpdateAttrs>()).moments) + 1; }

template <class T>
void update_kernel(const KernelCall& c) {
  const UpdateRule& r = *c.node.attr<UpdateAttrs>().rule;
  const std::size_t moments = std::size_t(r.moments);
  T* w = c.in[0].as<T>();
  T* m0 = moments > 0 ? c.in[1].as<T>() : nullptr;
  T* m1 = moments > 1 ? c.in[2].as<T>() : nullptr;
  const T* g = c.in[moments + 1].as<T>();
  const HyperAttrs& a = c.node.attr<UpdateAttrs>().hyper;
  UpdateCoeffs<T> k{c.in[moments + 2].as<T>()[0], {T(1), T(1), T(1)}, static_cast<T>(a.beta1),
                    static_cast<T>(a.beta2), static_cast<T>(a.epsilon)};
  for (int s = 0; s < r.step_scalars; ++s) k.step[s] = c.in[moments + 3 + std::size_t(s)].as<T>()[0];
  parallel_for(c.run.threads, c.out.shape.size(), [&](std::int64_t b, std::int64_t e) {
    apply<T>(r, {w + b, m0 ? m0 + b : nullptr, m1 ? m1 + b : nullptr, g + b, e - b}, k);
  });
}

}  // namespace

// `writes` makes the value W's memory; `written` says how many operands
// (W and its moments) the kernel overwrites.
extern const OpDef update_op{OpKind::update, "update", -1, update_op_shape,
                             DAGRAD_KERNELS(update_kernel), nullptr, false, 0b1, written, 0,
                             attrs_index<UpdateAttrs>()};

}  // namespace dagrad::ops
