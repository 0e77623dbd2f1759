#include "dagrad/passes/fuse.hpp"

namespace dagrad::passes {

namespace {

bool is_one_minus(const Node& n) {
  return n.op == OpKind::affine && n.attrs.scale == -1.0 && n.attrs.m_pow == 0 &&
         n.attrs.offset == 1.0;
}

// For mul(g, f) with f the chain of an activation's derivative, the fused
// node, or nullopt. `f` is the operand tried as the derivative factor.
std::optional<NodeId> fuse_derivative(RebuildContext& c, NodeId g, NodeId f) {
  const Node& fn = c.node(f);
  if (!c.single_use(f) || c.node(g).shape != fn.shape) return std::nullopt;
  if (fn.op == OpKind::step) {  // g * step(z, slope)
    Attrs a;
    a.slope = fn.attrs.slope;
    return c.out.add(OpKind::step_mul, {c.mapped(g), c.mapped(fn.inputs[0])}, a).id;
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

namespace {

// Matching an optimizer's update in the old graph, node by node.
struct UpdateMatcher {
  const Graph& g;
  const std::vector<int>& uses;

  const Node& node(NodeId id) const { return g.node(id); }
  // `id` when it is an `op` node read only by the node being fused.
  const Node* inner(NodeId id, OpKind op) const {
    const Node& n = node(id);
    return n.op == op && uses[id] == 1 ? &n : nullptr;
  }
  // s x + offset with a plain scale: returns x.
  std::optional<NodeId> affine_of(NodeId id, double* s, double offset) const {
    const Node* n = inner(id, OpKind::affine);
    if (!n || n->attrs.m_pow != 0 || n->attrs.offset != offset) return std::nullopt;
    *s = n->attrs.scale;
    return n->inputs[0];
  }
  // assign(m, beta m + (1 - beta) x) read once: the moment m, x and beta.
  struct Average {
    NodeId moment, x;
    double beta;
  };
  std::optional<Average> average(NodeId id) const {
    const Node* a = inner(id, OpKind::assign);
    if (!a || node(a->inputs[0]).op != OpKind::state) return std::nullopt;
    const Node* sum = inner(a->inputs[1], OpKind::add);
    if (!sum) return std::nullopt;
    double beta = 0, rest = 0;
    auto m = affine_of(sum->inputs[0], &beta, 0.0);
    auto x = affine_of(sum->inputs[1], &rest, 0.0);
    if (!m || !x || *m != a->inputs[0] || rest != 1.0 - beta) return std::nullopt;
    return Average{*m, *x, beta};
  }
  // x / (sqrt(y) + epsilon) read once: x, y, epsilon.
  std::optional<std::pair<NodeId, NodeId>> over_root(NodeId id, double* eps) const {
    const Node* d = inner(id, OpKind::div);
    if (!d) return std::nullopt;
    double one = 0;
    const Node* den = node(d->inputs[1]).op == OpKind::affine ? &node(d->inputs[1]) : nullptr;
    if (!den || uses[d->inputs[1]] != 1 || den->attrs.m_pow != 0) return std::nullopt;
    *eps = den->attrs.offset;
    auto root = affine_of(d->inputs[1], &one, *eps);
    if (!root || one != 1.0) return std::nullopt;
    const Node* sq = inner(*root, OpKind::sqrt);
    if (!sq) return std::nullopt;
    return std::pair{d->inputs[0], sq->inputs[0]};
  }
  // The fused update, when its operands have the shapes it needs: the first
  // `tensors` W's shape, the rest (alpha, c1, c2) 1x1.
  std::optional<UpdateMatch> make(OpKind op, std::vector<NodeId> ins, const Attrs& attrs,
                                  std::size_t tensors) const {
    const Shape w = node(ins[0]).shape;
    for (std::size_t k = 0; k < ins.size(); ++k) {
      const Shape s = node(ins[k]).shape;
      if (k < tensors ? s != w : !s.is_scalar()) return std::nullopt;
    }
    return UpdateMatch{op, std::move(ins), attrs};
  }
};

}  // namespace

std::optional<UpdateMatch> match_update(const Graph& g, const std::vector<int>& uses, NodeId assign) {
  const UpdateMatcher m{g, uses};
  const Node& a = g.node(assign);
  if (a.op != OpKind::assign) return std::nullopt;
  const NodeId W = a.inputs[0];
  if (g.node(W).op != OpKind::param) return std::nullopt;
  const Node* sub = m.inner(a.inputs[1], OpKind::sub);
  if (!sub || sub->inputs[0] != W) return std::nullopt;
  Attrs attrs;
  // gd and momentum: step = alpha * dW or alpha * v.
  if (const Node* mul = m.inner(sub->inputs[1], OpKind::mul)) {
    const NodeId alpha = mul->inputs[0], x = mul->inputs[1];
    if (auto v = m.average(x)) {
      attrs.beta1 = v->beta;
      return m.make(OpKind::momentum_update, {W, v->moment, v->x, alpha}, attrs, 3);
    }
    if (g.node(x).op == OpKind::assign) return std::nullopt;
    return m.make(OpKind::sgd_update, {W, x, alpha}, attrs, 2);
  }
  // rmsprop and adam: step = (alpha * num) / (sqrt(den) + epsilon).
  double eps = 0;
  const auto parts = m.over_root(sub->inputs[1], &eps);
  if (!parts) return std::nullopt;
  const Node* mul = m.inner(parts->first, OpKind::mul);
  if (!mul) return std::nullopt;
  const NodeId alpha = mul->inputs[0], num = mul->inputs[1], den = parts->second;
  attrs.epsilon = eps;
  if (auto s = m.average(den)) {  // rmsprop: num = dW, den = assign(s, ...)
    const Node* sq = m.inner(s->x, OpKind::square);
    if (!sq || sq->inputs[0] != num) return std::nullopt;
    attrs.beta2 = s->beta;
    return m.make(OpKind::rmsprop_update, {W, s->moment, num, alpha}, attrs, 3);
  }
  // adam: num = v / c1, den = s / c2.
  const Node* vc = m.inner(num, OpKind::div);
  const Node* sc = m.inner(den, OpKind::div);
  if (!vc || !sc) return std::nullopt;
  auto v = m.average(vc->inputs[0]);
  auto s = m.average(sc->inputs[0]);
  if (!v || !s) return std::nullopt;
  const Node* sq = m.inner(s->x, OpKind::square);
  if (!sq || sq->inputs[0] != v->x) return std::nullopt;
  attrs.beta1 = v->beta;
  attrs.beta2 = s->beta;
  return m.make(OpKind::adam_update,
                {W, v->moment, s->moment, v->x, alpha, vc->inputs[1], sc->inputs[1]}, attrs, 4);
}

std::optional<NodeId> fuse_update_rule(RebuildContext& c, NodeId old) {
  if (c.node(old).op != OpKind::assign) return std::nullopt;
  const auto u = match_update(c.in, c.uses, old);
  if (!u) return std::nullopt;
  std::vector<NodeId> ins;
  for (NodeId x : u->operands) ins.push_back(c.mapped(x));
  return c.out.add(u->op, std::move(ins), u->attrs).id;
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
