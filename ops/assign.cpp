// target := value       target: a param or state leaf; value: its shape
//
// An update of the graph's state, as Theano's `updates` and TF1's assign:
// train::minimize makes one per parameter and per optimizer moment. The
// node's buffer is the target's own memory, so after the run the target
// holds `value`, and so does the node. The schedule places it after every
// other reader of the target (Graph::schedule, OpDef::writes), so they all
// read the old value. It has no gradient: an update is not differentiated.
#include <cstring>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape assign_shape(const ShapeCall& c) {
  const Node& target = c.graph.node(c.inputs[0]);
  if (target.op != OpKind::param && target.op != OpKind::state)
    throw ShapeError(fmt::format("{}: the target must be a parameter or a state value, not a {}",
                                 operands(c, ","), op_def(target.op).name));
  if (target.shape != c.graph.node(c.inputs[1]).shape)
    throw ShapeError(fmt::format("{}: the value must have the target's shape", operands(c, ",")));
  return target.shape;
}

template <class T>
void assign_kernel(const KernelCall& c) {
  if (c.out.data != c.in[1].data)
    std::memcpy(c.out.data, c.in[1].data, static_cast<std::size_t>(c.out.shape.size()) * sizeof(T));
}

}  // namespace

extern const OpDef assign_op{OpKind::assign, "assign", 2, assign_shape,
                             DAGRAD_KERNELS(assign_kernel), nullptr, false, 0b1, nullptr, 0,
                             attrs_index<HyperAttrs>()};

}  // namespace dagrad::ops
