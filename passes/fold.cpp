#include "dagrad/passes/fold.hpp"

#include "dagrad/ops/op.hpp"

namespace dagrad::passes {

namespace {

bool is_matmul(OpKind op) { return op == OpKind::matmul || op == OpKind::matmul_bias; }

// Ops whose value on uniform operands is uniform and is the op applied to one
// element of each (kernels are run on 1x1 buffers to get it).
bool pointwise(OpKind op) {
  switch (op) {
    case OpKind::add: case OpKind::sub: case OpKind::mul: case OpKind::div:
    case OpKind::neg: case OpKind::affine: case OpKind::exp: case OpKind::log:
    case OpKind::square: case OpKind::sqrt: case OpKind::sigmoid: case OpKind::tanh:
    case OpKind::relu: case OpKind::leaky_relu: case OpKind::step: case OpKind::pow:
      return true;
    default:
      return false;
  }
}

// The value of `old` when all its operands are constants, or nullopt.
std::optional<double> constant_result(RebuildContext& c, NodeId old) {
  const Node& n = c.node(old);
  // Only these ops fold: the others need not look at their operands (the
  // rule runs on every node of every rebuild).
  if (n.op != OpKind::broadcast && n.op != OpKind::transpose && n.op != OpKind::sum && !pointwise(n.op))
    return std::nullopt;
  for (NodeId x : n.inputs)
    if (c.out.node(c.mapped(x)).op != OpKind::constant) return std::nullopt;
  std::vector<double> v;
  for (NodeId x : n.inputs) v.push_back(c.out.node(c.mapped(x)).attr<ConstantAttrs>().value);
  if (v.empty()) return std::nullopt;
  if (n.op == OpKind::broadcast || n.op == OpKind::transpose) return v[0];
  if (n.op == OpKind::sum) {
    // NOTE: a sum over m samples, or one scaled by 1/m, depends on the run.
    const Shape s = c.node(n.inputs[0]).shape;
    const SumAttrs& a = n.attr<SumAttrs>();
    if (s.symbolic() || a.scale.m_pow != 0) return std::nullopt;
    const double count = a.axis == -1 ? double(s.size())
                         : a.axis == 0 ? double(s.rows) : double(s.cols);
    return a.scale.value * count * v[0];
  }
  if (n.attrs.scale_factor().m_pow != 0) return std::nullopt;
  if (!pointwise(n.op)) return std::nullopt;
  // Run the op's own double kernel on 1x1 operands: the same arithmetic the
  // executor would do, element by element.
  std::vector<ops::Buffer> in;
  for (double& x : v) in.push_back(ops::Buffer{&x, Shape{1, 1}});
  double y = 0.0;
  const ops::RunContext run{};
  ops::op_def(n.op).f64(ops::KernelCall{c.in, old, n, in, ops::Buffer{&y, Shape{1, 1}}, run});
  return y;
}

}  // namespace

std::optional<NodeId> fold_constant_rule(RebuildContext& c, NodeId old) {
  const auto v = constant_result(c, old);
  if (!v) return std::nullopt;
  return c.out.constant(*v, c.node(old).shape).id;
}

// Patterns are matched on the operands' rewritten form in the new graph, so
// that rules compose within one rebuild (passes/optimize.cpp).
std::optional<NodeId> fold_transpose_rule(RebuildContext& c, NodeId old) {
  const Node& n = c.node(old);
  if (n.op == OpKind::transpose && c.out.node(c.mapped(n.inputs[0])).op == OpKind::transpose)
    return c.out.node(c.mapped(n.inputs[0])).inputs[0];
  if (!is_matmul(n.op)) return std::nullopt;
  const std::vector<NodeId> ins0 = c.mapped_inputs(old);
  std::vector<NodeId> ins = ins0;
  MatmulAttrs a = n.attr<MatmulAttrs>();
  bool changed = false;
  for (int k = 0; k < 2; ++k) {
    const Node& x = c.out.node(ins0[k]);
    if (x.op != OpKind::transpose) continue;
    ins[k] = x.inputs[0];
    (k == 0 ? a.trans_a : a.trans_b) ^= true;
    changed = true;
  }
  if (!changed) return std::nullopt;
  return c.out.add(n.op, std::move(ins), a).id;
}

std::optional<NodeId> fold_scale_rule(RebuildContext& c, NodeId old) {
  const Node& n = c.node(old);
  Scale s;
  if (n.op == OpKind::affine && n.attr<AffineAttrs>().offset == 0.0) s = n.attr<AffineAttrs>().scale;
  else if (n.op == OpKind::neg) s = -1.0;
  else return std::nullopt;
  const NodeId inner = n.inputs[0];
  if (!c.single_use(inner)) return std::nullopt;
  const Node& mm = c.out.node(c.mapped(inner));
  if (mm.op != OpKind::matmul) return std::nullopt;
  MatmulAttrs a = mm.attr<MatmulAttrs>();
  a.scale = a.scale * s;
  return c.out.add(OpKind::matmul, mm.inputs, a).id;
}

Rewritten fold_constants(const Graph& g, std::span<const NodeId> outputs) {
  return rebuild(g, outputs, fold_constant_rule);
}
Rewritten fold_transposes(const Graph& g, std::span<const NodeId> outputs) {
  return rebuild(g, outputs, fold_transpose_rule);
}
Rewritten fold_scales(const Graph& g, std::span<const NodeId> outputs) {
  return rebuild(g, outputs, fold_scale_rule);
}

}  // namespace dagrad::passes
