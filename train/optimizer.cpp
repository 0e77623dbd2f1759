#include "dagrad/train/optimizer.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::train {

OptimizerKind parse_optimizer(std::string_view s) {
  for (OptimizerKind k : {OptimizerKind::gd, OptimizerKind::momentum, OptimizerKind::rmsprop,
                          OptimizerKind::adam})
    if (name_of(k) == s) return k;
  throw InputError(fmt::format("unknown --optimizer '{}' (use gd, momentum, rmsprop or adam)", s));
}

std::string_view name_of(OptimizerKind k) {
  constexpr std::string_view names[] = {"gd", "momentum", "rmsprop", "adam"};
  return names[static_cast<int>(k)];
}

void OptimizerConfig::validate() const {
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
}

namespace {

// Builds the update nodes with Graph::add directly, not through the DSL: the
// DSL would move scales and fold constants, and passes::optimize recognises
// exactly this form when it fuses an update into one loop.
class UpdateBuilder {
 public:
  explicit UpdateBuilder(Graph& g) : g_(g) {}
  Expr op(OpKind k, std::initializer_list<Expr> xs, const Attrs& a = {}) {
    std::vector<NodeId> ids;
    for (Expr x : xs) ids.push_back(x.id);
    return g_.add(k, std::move(ids), a);
  }
  Expr scaled(Expr x, double s, double offset = 0.0) {  // s x + offset
    Attrs a;
    a.scale = s;
    a.offset = offset;
    return op(OpKind::affine, {x}, a);
  }
  // beta m + (1 - beta) x: an exponentially weighted average.
  Expr average(Expr m, Expr x, double beta) {
    return op(OpKind::add, {scaled(m, beta), scaled(x, 1.0 - beta)});
  }
  Expr constant(double v) { return g_.constant(v, {1, 1}); }

 private:
  Graph& g_;
};

Expr named(Expr e, const std::string& name) {
  if (!e.graph->find(name)) e.graph->set_name(e.id, name);
  return e;
}

}  // namespace

namespace {

// The names minimize gives the nodes it adds, for `c` and `params`.
std::vector<std::string> names_made(std::span<const Expr> params, const OptimizerConfig& c) {
  std::vector<std::string> out{"alpha"};
  if (c.decay_rate > 0.0) out.insert(out.end(), {"alpha0", "epoch"});
  if (c.kind == OptimizerKind::adam) out.push_back("t");
  for (Expr p : params) {
    const std::string d = "d" + p.name();
    if (c.kind == OptimizerKind::momentum || c.kind == OptimizerKind::adam) out.push_back("v_" + d);
    if (c.kind == OptimizerKind::rmsprop || c.kind == OptimizerKind::adam) out.push_back("s_" + d);
    if (c.kind == OptimizerKind::adam) out.insert(out.end(), {"v_corr_" + d, "s_corr_" + d});
  }
  return out;
}

// A node of the user's with a name minimize gives (alpha, t, v_dW1, ...) or
// a gradient's name dW1 (other than an earlier gradient's) would be taken for
// the optimizer's own when the model is read back: refused before any change.
void refuse_taken_names(const Graph& g, std::span<const Expr> params, const OptimizerConfig& c) {
  for (const std::string& name : names_made(params, c))
    if (g.find(name))
      throw GraphError(fmt::format("minimize: the graph already has a node named '{}', a name the {} "
                                   "optimizer gives its own state; rename that node", name, name_of(c.kind)));
  for (Expr p : params) {
    const std::string d = "d" + p.name();
    if (const auto id = g.find(d); id && g.node(*id).role != Role::backward)
      throw GraphError(fmt::format("minimize: the graph already has a node named '{}' ({}), the name of the "
                                   "gradient of {}; rename that node", d, ops::op_def(g.node(*id).op).name,
                                   p.name()));
  }
}

Updates append_updates(Expr J, std::span<const Expr> params, const OptimizerConfig& c);

}  // namespace

// All or nothing: the checks come first, and a failure while the nodes are
// added (a gradient rule's shape error) puts the graph back as it was.
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
  refuse_taken_names(g, params, c);
  Graph before = g;
  try {
    return append_updates(J, params, c);
  } catch (...) {
    g = std::move(before);
    throw;
  }
}

namespace {

Updates append_updates(Expr J, std::span<const Expr> params, const OptimizerConfig& c) {
  Graph& g = *J.graph;
  Updates u;
  autodiff::GradientOptions quiet;
  quiet.warn = [](const std::string&) {};  // an unused parameter's gradient is 0
  u.grads = autodiff::gradients(J, params, quiet);

  BuildScope scope(g, Role::update, 0);
  UpdateBuilder b(g);
  auto keep = [&](Expr leaf) {
    u.state.push_back(leaf);
    return leaf;
  };
  if (c.decay_rate > 0.0) {
    u.alpha0 = keep(g.state("alpha0", {1, 1}));
    u.epoch = g.input("epoch", {1, 1});
    u.alpha = named(b.op(OpKind::div, {u.alpha0, b.scaled(u.epoch, c.decay_rate, 1.0)}), "alpha");
  } else {
    u.alpha = u.alpha0 = keep(g.state("alpha", {1, 1}));
  }
  // The step reads each moment through its assign node, whose value is the
  // state leaf after the write: v_dW = ...; W = W - alpha v_dW, as the notes
  // write the step. Only the parameters' assigns are the plan's outputs.
  Attrs hyper;  // recorded on the assigns, for explain's symbols
  hyper.beta1 = c.beta1;
  hyper.beta2 = c.beta2;
  hyper.epsilon = c.epsilon;
  Expr c1, c2;  // 1 - beta1^t and 1 - beta2^t
  if (c.kind == OptimizerKind::adam) {
    u.t = keep(g.state("t", {1, 1}));
    const Expr t_now = b.op(OpKind::assign, {u.t, b.scaled(u.t, 1.0, 1.0)}, hyper);
    u.assigns.push_back(t_now);
    c1 = b.scaled(b.op(OpKind::pow, {b.constant(c.beta1), t_now}), -1.0, 1.0);
    c2 = b.scaled(b.op(OpKind::pow, {b.constant(c.beta2), t_now}), -1.0, 1.0);
  }
  for (std::size_t k = 0; k < params.size(); ++k) {
    const Expr W = params[k], dW = u.grads[k];
    BuildScope layer(g, Role::update, W.node().layer);
    const std::string d = "d" + W.name();
    Expr v, s;  // the moments after this step's update
    if (c.kind == OptimizerKind::momentum || c.kind == OptimizerKind::adam) {
      const Expr v_leaf = keep(g.state("v_" + d, W.shape()));
      v = b.op(OpKind::assign, {v_leaf, b.average(v_leaf, dW, c.beta1)}, hyper);
    }
    if (c.kind == OptimizerKind::rmsprop || c.kind == OptimizerKind::adam) {
      const Expr s_leaf = keep(g.state("s_" + d, W.shape()));
      s = b.op(OpKind::assign, {s_leaf, b.average(s_leaf, b.op(OpKind::square, {dW}), c.beta2)},
               hyper);
    }
    Expr step;  // what W loses
    if (s.valid()) {
      Expr num = dW, den = s;
      if (c.kind == OptimizerKind::adam) {
        num = named(b.op(OpKind::div, {v, c1}), "v_corr_" + d);
        den = named(b.op(OpKind::div, {s, c2}), "s_corr_" + d);
      }
      // alpha num / (sqrt(den) + epsilon), multiplied first as the loops do.
      step = b.op(OpKind::div, {b.op(OpKind::mul, {u.alpha, num}),
                                b.scaled(b.op(OpKind::sqrt, {den}), 1.0, c.epsilon)});
    } else {
      step = b.op(OpKind::mul, {u.alpha, v.valid() ? v : dW});
    }
    u.assigns.push_back(b.op(OpKind::assign, {W, b.op(OpKind::sub, {W, step})}, hyper));
  }
  return u;
}

}  // namespace

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
    for (const std::string& moment : {"v_" + d, "s_" + d})
      if (auto m = g.find(moment); m && g.node(*m).op == OpKind::state) u.state.push_back(g.expr(*m));
  }
  return u;
}

}  // namespace dagrad::train

