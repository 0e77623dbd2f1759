#include "dagrad/passes/fuse.hpp"

#include "dagrad/optim/match.hpp"

namespace dagrad::passes {

namespace {

bool is_one_minus(const Node& n) {
  return n.op == OpKind::affine && n.attr<AffineAttrs>().scale == Scale(-1.0) &&
         n.attr<AffineAttrs>().offset == 1.0;
}

// For mul(g, f) with f the chain of an activation's derivative, the fused
// node, or nullopt. `f` is the operand tried as the derivative factor.
std::optional<NodeId> fuse_derivative(RebuildContext& c, NodeId g, NodeId f) {
  const Node& fn = c.node(f);
  if (!c.single_use(f) || c.node(g).shape != fn.shape) return std::nullopt;
  if (fn.op == OpKind::step) {  // g * step(z, slope)
    return c.out.add(OpKind::step_mul, {c.mapped(g), c.mapped(fn.inputs[0])}, fn.attr<SlopeAttrs>()).id;
  }
  if (is_one_minus(fn)) {  // g * (1 - square(a))
    const NodeId sq = fn.inputs[0];
    if (c.node(sq).op != OpKind::square || !c.single_use(sq)) return std::nullopt;
    return c.out.add(OpKind::tanh_grad_mul, {c.mapped(g), c.mapped(c.node(sq).inputs[0])}).id;
  }
  if (fn.op == OpKind::mul) {  // g * (a * (1 - a)), either order inside
    for (int k = 0; k < 2; ++k) {
      const NodeId a = fn.inputs[k], om = fn.inputs[1 - k];
      const Node& omn = c.node(om);
      if (is_one_minus(omn) && omn.inputs[0] == a && c.single_use(om) &&
          c.node(a).shape == fn.shape)
        return c.out.add(OpKind::sigmoid_grad_mul, {c.mapped(g), c.mapped(a)}).id;
    }
  }
  return std::nullopt;
}

}  // namespace

// The absorbed GEMM is read in its rewritten form (new graph), so that this
// rule composes with transpose and scale folding in one rebuild.
std::optional<NodeId> fuse_bias_rule(RebuildContext& c, NodeId old) {
  const Node& n = c.node(old);
  if (n.op != OpKind::add) return std::nullopt;
  for (int k = 0; k < 2; ++k) {
    const NodeId mm = n.inputs[k], bias = n.inputs[1 - k];
    if (!c.single_use(mm)) continue;
    const Node& m = c.out.node(c.mapped(mm));
    // The GEMM's output must already be the sum's shape (the bias broadcasts,
    // never the product).
    if (m.op != OpKind::matmul || m.shape != n.shape) continue;
    return c.out.add(OpKind::matmul_bias, {m.inputs[0], m.inputs[1], c.mapped(bias)}, m.attrs).id;
  }
  return std::nullopt;
}

std::optional<NodeId> fuse_elementwise_rule(RebuildContext& c, NodeId old) {
  const Node& n = c.node(old);
  if (n.op != OpKind::mul) return std::nullopt;
  if (auto id = fuse_derivative(c, n.inputs[0], n.inputs[1])) return id;
  return fuse_derivative(c, n.inputs[1], n.inputs[0]);
}

std::optional<NodeId> fuse_update_rule(RebuildContext& c, NodeId old) {
  if (c.node(old).op != OpKind::assign) return std::nullopt;
  const auto u = optim::match_update(c.in, c.uses, old);
  if (!u) return std::nullopt;
  std::vector<NodeId> ins;
  for (NodeId x : u->operands) ins.push_back(c.mapped(x));
  return c.out.add(OpKind::update, std::move(ins), u->attrs).id;
}

Rewritten fuse_updates(const Graph& g, std::span<const NodeId> outputs) {
  return rebuild(g, outputs, fuse_update_rule);
}

Rewritten fuse_bias(const Graph& g, std::span<const NodeId> outputs) {
  return rebuild(g, outputs, fuse_bias_rule);
}
Rewritten fuse_elementwise(const Graph& g, std::span<const NodeId> outputs) {
  return rebuild(g, outputs, fuse_elementwise_rule);
}

}  // namespace dagrad::passes
