#include "dagrad/passes/fuse_net.hpp"

#include <algorithm>
#include <memory>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/ops/fused_net.hpp"
#include "dagrad/optim/match.hpp"
#include "dagrad/passes/fuse.hpp"

namespace dagrad::passes {

namespace {

using ops::NetCost;
using ops::NetLayer;

// What the forward pass and the cost say, before the updates are read.
struct Found {
  ops::FusedNet net;
  NodeId J = 0, X = 0, Y = 0;
  std::vector<NodeId> params;  // W1, b1, W2, b2, ...
};

// Z = W A + b (either order of the sum) with W and b parameters and a plain
// product: W, A, b.
struct Affine {
  NodeId W, A, b;
};
std::optional<Affine> affine_layer(const Graph& g, NodeId z) {
  const Node& n = g.node(z);
  if (n.op != OpKind::add) return std::nullopt;
  for (int k = 0; k < 2; ++k) {
    const Node& mm = g.node(n.inputs[k]);
    const NodeId b = n.inputs[1 - k];
    if (mm.op != OpKind::matmul || mm.attr<MatmulAttrs>().trans_a || mm.attr<MatmulAttrs>().trans_b ||
        !mm.attr<MatmulAttrs>().scale.is_one() || mm.shape != n.shape)
      continue;
    const NodeId W = mm.inputs[0];
    if (g.node(W).op != OpKind::param || g.node(b).op != OpKind::param ||
        g.node(b).shape != Shape{g.node(W).shape.rows, 1})
      continue;
    return Affine{W, mm.inputs[1], b};
  }
  return std::nullopt;
}

// A[l] = g(Z[l]) (* D / keep_prob): fills the layer's activation and
// dropout, returns Z[l].
std::optional<NodeId> activation_layer(const Graph& g, NodeId A, NetLayer& layer) {
  const Node* n = &g.node(A);
  if (n->op == OpKind::dropout) {
    const Node& D = g.node(n->inputs[1]);
    // The kernel draws the mask and scales by one keep_prob: the node's own
    // (as ops/dropout.cpp scales). A mask drawn with another (a graph file
    // can say so) is left to the unfused ops.
    if (D.op != OpKind::dropout_mask || D.shape != n->shape ||
        D.attr<MaskAttrs>().keep_prob != n->attr<DropoutAttrs>().keep_prob)
      return std::nullopt;
    layer.keep_prob = n->attr<DropoutAttrs>().keep_prob;
    layer.seed = D.attr<MaskAttrs>().seed;
    n = &g.node(n->inputs[0]);
  }
  if (!ops::read_activation(*n, layer.activation, layer.slope)) return std::nullopt;
  return n->inputs[0];
}

// The layers from Z[L] down to the input X, each narrow, at most
// net_max_depth of them.
bool read_layers(const Graph& g, NodeId z, Found& f) {
  std::vector<NetLayer> layers;  // from the output down
  std::vector<NodeId> W, b;
  NetLayer layer;  // the output layer: identity
  for (;;) {
    if (layers.size() == std::size_t(ops::net_max_depth)) return false;
    const auto aff = affine_layer(g, z);
    if (!aff) return false;
    layer.units = g.node(aff->W).shape.rows;
    if (layer.units > ops::net_max_width) return false;
    layers.push_back(layer);
    W.push_back(aff->W);
    b.push_back(aff->b);
    if (g.node(aff->A).op == OpKind::input) {
      f.X = aff->A;
      break;
    }
    layer = NetLayer{};
    const auto below = activation_layer(g, aff->A, layer);
    if (!below) return false;
    z = *below;
  }
  f.net.inputs = g.node(f.X).shape.rows;
  if (f.net.inputs > ops::net_max_width) return false;
  f.net.layers.assign(layers.rbegin(), layers.rend());
  for (std::size_t l = W.size(); l-- > 0;) {
    f.params.push_back(W[l]);
    f.params.push_back(b[l]);
  }
  // One parameter in two places (shared weights) is not this program.
  std::vector<NodeId> sorted = f.params;
  std::sort(sorted.begin(), sorted.end());
  return std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
}

// J = C (+ L2) with C the cost of Z[L] against the input Y.
std::optional<Found> read_forward(const Graph& g, NodeId J) {
  Found f;
  f.J = J;
  NodeId cost = J;
  std::optional<NodeId> penalty;
  if (const Node& j = g.node(J); j.op == OpKind::add) {
    for (int k = 0; k < 2; ++k)
      if (g.node(j.inputs[k]).op == OpKind::l2_penalty) {
        penalty = j.inputs[k];
        cost = j.inputs[1 - k];
      }
    if (!penalty) return std::nullopt;
  }
  const Node& c = g.node(cost);
  switch (c.op) {
    case OpKind::bce_logits: f.net.cost = NetCost::bce_logits; break;
    case OpKind::softmax_ce: f.net.cost = NetCost::softmax_ce; break;
    case OpKind::mse: f.net.cost = NetCost::mse; break;
    default: return std::nullopt;
  }
  f.Y = c.inputs[1];
  if (g.node(f.Y).op != OpKind::input || !read_layers(g, c.inputs[0], f)) return std::nullopt;
  if (penalty) {
    const Node& p = g.node(*penalty);
    std::vector<NodeId> ws(p.inputs), want;
    for (std::size_t k = 0; k < f.params.size(); k += 2) want.push_back(f.params[k]);
    std::sort(ws.begin(), ws.end());
    std::sort(want.begin(), want.end());
    const L2Attrs& l2 = p.attr<L2Attrs>();
    if (ws != want || !(l2.lambda > 0)) return std::nullopt;
    f.net.lambda = l2.lambda;
    f.net.l2_count = l2.m;
  }
  return f;
}

// Each parameter's update, all of one optimizer: the kernel's operands
// (parameters, moments, X, Y, alpha, the step's scalars) and each update's dW.
struct Updates {
  std::vector<NodeId> assigns, operands, grads;
};

std::optional<Updates> read_updates(const Graph& g, std::span<const NodeId> outputs, Found& f) {
  Updates u;
  for (NodeId p : f.params) {
    auto it = std::find_if(outputs.begin(), outputs.end(), [&](NodeId o) {
      return g.node(o).op == OpKind::assign && g.node(o).inputs[0] == p;
    });
    if (it == outputs.end()) return std::nullopt;
    u.assigns.push_back(*it);
  }
  const std::vector<NodeId> schedule = g.schedule(outputs);
  const std::vector<int> uses = count_uses(g, schedule, outputs);
  std::vector<NodeId> moments, scalars;
  for (std::size_t k = 0; k < u.assigns.size(); ++k) {
    const auto m = optim::match_update(g, uses, u.assigns[k]);
    if (!m) return std::nullopt;
    const ops::UpdateRule* rule = m->attrs.rule;
    const std::size_t tensors = std::size_t(rule->moments) + 2;
    const std::vector<NodeId> rest(m->operands.begin() + std::ptrdiff_t(tensors), m->operands.end());
    if (k == 0) {
      f.net.rule = rule;
      f.net.beta1 = m->attrs.hyper.beta1;
      f.net.beta2 = m->attrs.hyper.beta2;
      f.net.epsilon = m->attrs.hyper.epsilon;
      scalars = rest;
    } else if (rule != f.net.rule || rest != scalars || m->attrs.hyper.beta1 != f.net.beta1 ||
               m->attrs.hyper.beta2 != f.net.beta2 || m->attrs.hyper.epsilon != f.net.epsilon) {
      return std::nullopt;
    }
    moments.insert(moments.end(), m->operands.begin() + 1, m->operands.begin() + std::ptrdiff_t(tensors - 1));
    u.grads.push_back(m->operands[tensors - 1]);
  }
  u.operands = f.params;
  u.operands.insert(u.operands.end(), moments.begin(), moments.end());
  u.operands.push_back(f.X);
  u.operands.push_back(f.Y);
  u.operands.insert(u.operands.end(), scalars.begin(), scalars.end());
  return u;
}

// Whether each update's dW is dJ/dW: gradients() run again on a copy finds
// the graph's own nodes when they are the derivative, and makes new ones
// where they differ.
bool grads_are_derivatives(const Graph& g, const Found& f, const Updates& u) {
  Graph copy = g;
  std::vector<Expr> params;
  for (NodeId p : f.params) params.push_back(copy.expr(p));
  autodiff::GradientOptions quiet;
  quiet.warn = [](const std::string&) {};
  quiet.name_gradients = false;
  const std::vector<Expr> d = autodiff::gradients(copy.expr(f.J), params, quiet);
  for (std::size_t k = 0; k < d.size(); ++k)
    if (d[k].id != u.grads[k]) return false;
  return true;
}

// No output but J and the updates needs a node the fused one replaces.
bool replaced_alone(const Graph& g, std::span<const NodeId> outputs, const std::vector<NodeId>& fused,
                    const std::vector<NodeId>& operands, std::vector<NodeId>& others,
                    std::size_t* absorbed) {
  for (NodeId o : outputs)
    if (std::find(fused.begin(), fused.end(), o) == fused.end()) others.push_back(o);
  const std::vector<bool> kept = g.ancestors_of(operands);
  const std::vector<bool> region = g.ancestors_of(fused);
  const std::vector<bool> other = g.ancestors_of(others);
  *absorbed = 0;
  for (NodeId id = 0; id < g.size(); ++id) {
    if (!region[id] || kept[id]) continue;
    if (other[id]) return false;
    ++*absorbed;
  }
  return true;
}

}  // namespace

std::optional<Rewritten> fuse_nets(const Graph& g, std::span<const NodeId> outputs, bool split) {
  for (NodeId J : outputs) {
    if (g.node(J).op == OpKind::assign || !g.node(J).shape.is_scalar()) continue;
    std::optional<Found> f = read_forward(g, J);
    if (!f) continue;
    std::optional<Updates> u = read_updates(g, outputs, *f);
    if (!u || !grads_are_derivatives(g, *f, *u)) continue;
    std::vector<NodeId> fused{J}, others;
    fused.insert(fused.end(), u->assigns.begin(), u->assigns.end());
    std::size_t absorbed = 0;
    if (!replaced_alone(g, outputs, fused, u->operands, others, &absorbed)) continue;

    // The operands and the other outputs as they are; then the fused node.
    std::vector<NodeId> keep = u->operands;
    keep.insert(keep.end(), others.begin(), others.end());
    Rewritten r = rebuild(g, keep);
    auto net = std::make_shared<ops::FusedNet>(std::move(f->net));
    Rewritten body = rebuild(g, fused);
    net->kept.assign(body.graph.size(), false);
    const std::vector<bool> kept = g.ancestors_of(u->operands);
    for (NodeId id = 0; id < g.size(); ++id)
      if (kept[id] && body.map[id] != no_node) net->kept[body.map[id]] = true;
    net->replaced = std::move(body.graph);
    net->replaced_outputs = std::move(body.outputs);
    net->absorbed = absorbed;
    std::vector<NodeId> ins;
    for (NodeId x : u->operands) ins.push_back(r.map[x]);
    const std::string& name = g.node(J).name;
    NodeId F;
    if (!split) {
      BuildScope scope(r.graph, Role::forward, 0);
      F = r.graph.add(OpKind::fused_net, std::move(ins), FusedNetAttrs{net, FusedStage::step}).id;
    } else {
      // G from the parameters, X and Y; the update from the parameters,
      // their moments, G, alpha and the step's scalars (ops/fused_net.hpp).
      const auto at = [&](std::size_t k) { return ins.begin() + std::ptrdiff_t(k); };
      std::vector<NodeId> grad_ins(ins.begin(), at(2 * std::size_t(net->depth())));
      grad_ins.insert(grad_ins.end(), at(net->x_slot()), at(net->x_slot() + 2));
      NodeId G;
      {
        BuildScope scope(r.graph, Role::backward, 0);
        G = r.graph.add(OpKind::fused_net, std::move(grad_ins), FusedNetAttrs{net, FusedStage::gradients}).id;
      }
      if (const std::string gname = (name.empty() ? "J" : name) + "_gradients"; !r.graph.find(gname))
        r.graph.set_name(G, gname);
      std::vector<NodeId> update_ins(ins.begin(), at(net->written()));
      update_ins.push_back(G);
      update_ins.insert(update_ins.end(), at(net->x_slot() + 2), ins.end());
      BuildScope scope(r.graph, Role::update, 0);
      F = r.graph.add(OpKind::fused_net, std::move(update_ins), FusedNetAttrs{net, FusedStage::update}).id;
    }
    if (!name.empty() && !r.graph.find(name)) r.graph.set_name(F, name);
    r.map[J] = F;
    for (std::size_t k = 0; k < u->assigns.size(); ++k) r.map[u->assigns[k]] = r.map[f->params[k]];
    r.outputs.clear();
    for (NodeId o : outputs) r.outputs.push_back(r.map[o]);
    return r;
  }
  return std::nullopt;
}

}  // namespace dagrad::passes
