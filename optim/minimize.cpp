// minimize and find_updates for every optimizer: what differs between them
// is in each optimizer's file (optim/registry.hpp lists them).
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::optim {

void OptimizerConfig::validate() const {
  optimizer(kind);  // a kind the registry knows
  if (!(learning_rate > 0.0) || !std::isfinite(learning_rate))
    throw InputError(fmt::format("--lr {:g} must be a positive number", learning_rate));
  if (!(decay_rate >= 0.0) || !std::isfinite(decay_rate))
    throw InputError(fmt::format("--decay-rate {:g} must be >= 0", decay_rate));
  if (!(beta1 >= 0.0 && beta1 < 1.0))
    throw InputError(fmt::format("--beta1 {:g} is not in [0, 1)", beta1));
  if (!(beta2 >= 0.0 && beta2 < 1.0))
    throw InputError(fmt::format("--beta2 {:g} is not in [0, 1)", beta2));
  if (!(epsilon > 0.0) || !std::isfinite(epsilon))
    throw InputError(fmt::format("--epsilon {:g} must be > 0", epsilon));
  if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay))
    throw InputError(fmt::format("--weight-decay {:g} must be >= 0", weight_decay));
}

Builder::Builder(Graph& g, const OptimizerConfig& c, unsigned uses)
    : g_(g), first_(static_cast<NodeId>(g.size())) {
  hyper_.beta1 = c.beta1;
  hyper_.beta2 = c.beta2;
  hyper_.epsilon = c.epsilon;
  if (uses & hyper::weight_decay) hyper_.weight_decay = c.weight_decay;
}

Expr Builder::op(OpKind k, std::initializer_list<Expr> xs, const Attrs& a) {
  std::vector<NodeId> ids;
  for (Expr x : xs) ids.push_back(x.id);
  return g_.add(k, std::move(ids), a);
}

Expr Builder::scaled(Expr x, double s, double offset) {
  return op(OpKind::affine, {x}, AffineAttrs{s, offset});
}

Expr Builder::average(Expr m, Expr x, double beta) {
  return op(OpKind::add, {scaled(m, beta), scaled(x, 1.0 - beta)});
}

Expr Builder::assign(Expr target, Expr value) { return op(OpKind::assign, {target, value}, hyper_); }

void Builder::refuse_taken(const std::string& name) const {
  if (const auto id = g_.find(name); id && *id < first_)
    throw GraphError(fmt::format("minimize: the graph already has a node named '{}', a name the "
                                 "optimizer gives its own state; rename that node", name));
}

Expr Builder::named(Expr e, const std::string& name) {
  refuse_taken(name);
  if (!g_.find(name)) g_.set_name(e.id, name);
  return e;
}

Expr Builder::state(const std::string& name, Shape shape) {
  refuse_taken(name);
  return g_.state(name, shape);
}

namespace {

// A node of the user's named like a gradient dW1 (other than an earlier
// gradient) would be taken for the optimizer's own when the model is read
// back: refused before any change.
void refuse_gradient_names(const Graph& g, std::span<const Expr> params) {
  for (Expr p : params) {
    const std::string d = "d" + p.name();
    if (const auto id = g.find(d); id && g.node(*id).role != Role::backward)
      throw GraphError(fmt::format("minimize: the graph already has a node named '{}' ({}), the name of the "
                                   "gradient of {}; rename that node", d, ops::op_def(g.node(*id).op).name,
                                   p.name()));
  }
}

Updates append_updates(Expr J, std::span<const Expr> params, const OptimizerConfig& c) {
  Graph& g = *J.graph;
  const Optimizer& opt = optimizer(c.kind);
  Builder b(g, c, opt.uses);  // before the gradients: their names are checked apart
  Updates u;
  autodiff::GradientOptions quiet;
  quiet.warn = [](const std::string&) {};  // an unused parameter's gradient is 0
  u.grads = autodiff::gradients(J, params, quiet);

  BuildScope scope(g, Role::update, 0);
  auto keep = [&](Expr leaf) {
    u.state.push_back(leaf);
    return leaf;
  };
  if (c.decay_rate > 0.0) {
    u.alpha0 = keep(b.state("alpha0", {1, 1}));
    b.refuse_taken("epoch");
    u.epoch = g.input("epoch", {1, 1});
    u.alpha = b.named(b.op(OpKind::div, {u.alpha0, b.scaled(u.epoch, c.decay_rate, 1.0)}), "alpha");
  } else {
    u.alpha = u.alpha0 = keep(b.state("alpha", {1, 1}));
  }
  // The step reads each moment through its assign node, whose value is the
  // state leaf after the write: v_dW = ...; W = W - alpha v_dW, as the notes
  // write the step. Only the parameters' (and t's) assigns are the plan's outputs.
  Expr t_now;
  if (opt.counts_steps) {
    u.t = keep(b.state("t", {1, 1}));
    t_now = b.assign(u.t, b.scaled(u.t, 1.0, 1.0));
    u.assigns.push_back(t_now);
  }
  StepScalars scalars{};
  if (opt.step) scalars = opt.step(b, t_now, u.alpha, c);
  for (std::size_t k = 0; k < params.size(); ++k) {
    const Expr W = params[k];
    BuildScope layer(g, Role::update, W.node().layer);
    const std::string d = "d" + W.name();
    std::array<Expr, 2> moments;
    auto moment = [&](int i) {
      Expr& m = moments.at(std::size_t(i));
      if (!m.valid()) m = keep(b.state(fmt::format("{}_{}", opt.moments.at(std::size_t(i)), d), W.shape()));
      return m;
    };
    const ParamStep p{W, u.grads[k], u.alpha, moment,
                      std::span<const Expr>(scalars.data(), std::size_t(opt.rule->step_scalars)), d};
    u.assigns.push_back(b.assign(W, opt.equations(b, p, c)));
  }
  return u;
}

}  // namespace

// All or nothing: the checks come first, and a failure while the nodes are
// added (a name already taken, a gradient rule's shape error) puts the
// graph back as it was.
Updates minimize(Expr J, std::span<const Expr> params, const OptimizerConfig& c) {
  c.validate();
  if (!J.valid()) throw GraphError("minimize: the cost is an empty expression");
  Graph& g = *J.graph;
  for (Expr p : params) {
    if (p.graph != &g) throw GraphError("minimize: a parameter belongs to another graph");
    if (p.node().op != OpKind::param)
      throw GraphError(fmt::format("minimize: {} is a {} node, not a parameter", g.describe(p.id),
                                   ops::op_def(p.node().op).name));
    for (NodeId reader : g.consumers(p.id))
      if (g.node(reader).op == OpKind::assign)
        throw GraphError(fmt::format("minimize: {} already has an update", g.describe(p.id)));
  }
  refuse_gradient_names(g, params);
  Graph before = g;
  try {
    return append_updates(J, params, c);
  } catch (...) {
    g = std::move(before);
    throw;
  }
}

namespace {

Expr by_name(Graph& g, const std::string& name, OpKind op) {
  const auto id = g.find(name);
  if (!id || g.node(*id).op != op)
    throw GraphError(fmt::format("the optimizer's {} node '{}' is missing", ops::op_def(op).name, name));
  return g.expr(*id);
}

std::optional<Expr> assign_of(Graph& g, Expr target) {
  for (NodeId reader : g.consumers(target.id))
    if (g.node(reader).op == OpKind::assign && g.node(reader).inputs[0] == target.id)
      return g.expr(reader);
  return std::nullopt;
}

}  // namespace

Updates find_updates(Graph& g, std::span<const Expr> params) {
  Updates u;
  if (auto a = g.find("alpha0"); a && g.node(*a).op == OpKind::state) {
    u.alpha0 = g.expr(*a);
    u.alpha = by_name(g, "alpha", OpKind::div);  // alpha0 / (1 + decay_rate epoch)
    u.epoch = by_name(g, "epoch", OpKind::input);
  } else {
    u.alpha = u.alpha0 = by_name(g, "alpha", OpKind::state);
  }
  u.state.push_back(u.alpha0);
  if (auto t = g.find("t"); t && g.node(*t).op == OpKind::state) {
    u.t = g.expr(*t);
    u.state.push_back(u.t);
    if (auto a = assign_of(g, u.t)) u.assigns.push_back(*a);
  }
  std::set<std::string_view> prefixes;  // every optimizer's moments: v, s, ...
  for (const Optimizer* o : all_optimizers())
    for (int i = 0; i < o->moment_count(); ++i) prefixes.insert(o->moments[std::size_t(i)]);
  for (Expr W : params) {
    const std::string d = "d" + W.name();
    const auto grad = g.find(d);
    const auto update = assign_of(g, W);
    if (!grad || !update)
      throw GraphError(fmt::format("the update of {} is missing from the graph", W.name()));
    if (g.node(*grad).role != Role::backward)
      throw GraphError(fmt::format("the gradient {} of {} is a {} node, not a gradient (a name the "
                                   "optimizer reserves)", d, W.name(), ops::op_def(g.node(*grad).op).name));
    u.grads.push_back(g.expr(*grad));
    u.assigns.push_back(*update);
    for (std::string_view prefix : prefixes)
      if (auto m = g.find(fmt::format("{}_{}", prefix, d)); m && g.node(*m).op == OpKind::state)
        u.state.push_back(g.expr(*m));
  }
  return u;
}

}  // namespace dagrad::optim
