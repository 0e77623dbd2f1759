// The leaves of a graph: inputs (X, Y), parameters (W, b) and optimizer state
// (v_dW1, t) are bound by the executor to caller memory; a constant fills its
// buffer with one value.
// None of them has operands, so none has a gradient rule.
#include <algorithm>

#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

template <class T>
void fill_constant(const KernelCall& c) {
  std::fill_n(c.out.as<T>(), c.out.shape.size(), static_cast<T>(c.node.attr<ConstantAttrs>().value));
}

}  // namespace

extern const OpDef input_op{OpKind::input, "input", 0, given_shape, nullptr, nullptr, nullptr, true};
extern const OpDef param_op{OpKind::param, "param", 0, given_shape, nullptr, nullptr, nullptr, true};
extern const OpDef state_op{OpKind::state, "state", 0, given_shape, nullptr, nullptr, nullptr, true};
extern const OpDef constant_op{OpKind::constant, "constant", 0, given_shape,
                               DAGRAD_KERNELS(fill_constant), nullptr, true, 0, nullptr, 0,
                               attrs_index<ConstantAttrs>()};

}  // namespace dagrad::ops
