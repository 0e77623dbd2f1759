#include "dagrad/models/validate.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::models {

namespace {

constexpr NodeId no_node = ~NodeId{0};

class Checker {
 public:
  Checker(const Model& m, std::string_view origin) : m_(m), g_(m.graph()), origin_(origin) {}

  void run() {
    features_ = check_input(m_.features(), "features");
    labels_ = m_.labels().valid() ? check_input(m_.labels(), "labels") : no_node;
    if (labels_ == features_) bad("labels", fmt::format("names '{}', the features input too", name(labels_)));
    check_cost(m_.cost().id, "cost");
    check_cost(m_.eval_cost().id, "eval_cost");
    check_outputs();
    check_roles();
    check_params();
    check_state_values();
    if (m_.minimized()) check_optimizer();
    else check_no_updates();
    if (m_.spec) check_spec();
    if (m_.epochs > m_.steps)
      bad("epochs", fmt::format("is {}, more than the {} updates made (an epoch makes at least one)", m_.epochs,
                                m_.steps));
    check_reserved_names(m_, origin_);
  }

 private:
  [[noreturn]] void bad(std::string_view field, std::string_view what) const {
    throw InputError(fmt::format("{}: field '{}' {}", origin_, field, what));
  }
  std::string name(NodeId id) const { return g_.describe(id); }
  std::string_view op_name(NodeId id) const { return ops::op_def(g_.node(id).op).name; }
  bool reads(NodeId from, NodeId leaf) const {
    if (leaf == no_node) return false;
    const NodeId targets[] = {from};
    return g_.ancestors_of(targets)[leaf];
  }

  NodeId check_input(Expr e, const char* field) const {
    const Node& n = e.node();
    if (n.op != OpKind::input)
      bad(field, fmt::format("names '{}', a {} node, not an input", name(e.id), op_name(e.id)));
    return e.id;
  }

  void check_cost(NodeId id, const char* field) const {
    const Node& n = g_.node(id);
    if (n.role != Role::forward || n.inputs.empty())
      bad(field, fmt::format("names '{}', a {} node, not a cost computed by the forward pass", name(id), op_name(id)));
    if (!reads(id, features_)) bad(field, fmt::format("names '{}', which does not read the features", name(id)));
  }

  // A prediction: a forward computation with one column per sample, from
  // the features and without the labels (predict has none).
  void check_outputs() const {
    std::set<NodeId> seen;
    for (Expr o : m_.outputs()) {
      const Node& n = o.node();
      const std::string what = fmt::format("names '{}', ", name(o.id));
      if (!seen.insert(o.id).second) bad("outputs", what + "twice");
      if (n.role != Role::forward || n.inputs.empty())
        bad("outputs", what + fmt::format("a {} node ({}), not a prediction of the forward pass", op_name(o.id),
                                          role_name(n.role)));
      // One column per sample: m, or the features' fixed count in a graph of concrete shapes.
      const Shape x = g_.node(features_).shape;
      if (n.shape.cols != x.cols)
        bad("outputs", what + fmt::format("of shape {}: a prediction holds one column per sample, as the "
                                          "features {} {} do", to_string(n.shape), name(features_), to_string(x)));
    }
  }

  // Predict feeds the features alone: every output reads them, none the labels.
  void check_roles() const {
    for (Expr o : m_.outputs()) {
      if (!reads(o.id, features_))
        bad("features", fmt::format("names '{}', which the output {} does not read", name(features_), name(o.id)));
      if (reads(o.id, labels_))
        bad("labels", fmt::format("names '{}', which the output {} reads: predict has no labels", name(labels_),
                                  name(o.id)));
    }
  }

  static std::string_view role_name(Role r) {
    constexpr std::string_view names[] = {"input", "param", "constant", "forward", "backward", "state", "update"};
    return names[static_cast<int>(r)];
  }

  void check_params() const {
    const std::vector<Expr> params = m_.params();
    if (params.empty()) bad("params", "names no parameter: the model has nothing to train");
    std::set<NodeId> seen;
    for (Expr p : params)
      if (!seen.insert(p.id).second) bad("params", fmt::format("names '{}' twice", name(p.id)));
  }

  // Every parameter with an update node is listed, and only those.
  std::set<NodeId> updated_params() const {
    std::set<NodeId> out;
    for (NodeId id = 0; id < g_.size(); ++id) {
      const Node& n = g_.node(id);
      if (n.op == OpKind::assign && g_.node(n.inputs[0]).op == OpKind::param) out.insert(n.inputs[0]);
    }
    return out;
  }

  void check_no_updates() const {
    if (const auto updated = updated_params(); !updated.empty())
      bad("optimizer", fmt::format("is missing, but graph.json updates {}", name(*updated.begin())));
  }

  void check_optimizer() const {
    const optim::OptimizerConfig& c = m_.optimizer();
    const optim::Updates& u = m_.updates();
    const auto updated = updated_params();
    const std::vector<Expr> params = m_.params();
    for (Expr p : params)
      if (!updated.contains(p.id)) bad("params", fmt::format("names '{}', which graph.json does not update", name(p.id)));
    for (NodeId p : updated)
      if (std::none_of(params.begin(), params.end(), [&](Expr e) { return e.id == p; }))
        bad("params", fmt::format("leaves out '{}', which graph.json updates", name(p)));
    const std::string kind(optim::name_of(c.kind));
    const optim::Optimizer& opt = optim::optimizer(c.kind);
    if (u.t.valid() != opt.counts_steps)
      bad("optimizer.kind", fmt::format("is '{}', but graph.json {} the step count t", kind,
                                        u.t.valid() ? "holds" : "lacks"));
    std::set<std::string_view> prefixes;  // every optimizer's moments: v, s, ...
    for (const optim::Optimizer* o : optim::all_optimizers())
      for (int k = 0; k < o->moment_count(); ++k) prefixes.insert(o->moments[std::size_t(k)]);
    for (Expr W : params) {
      const std::string d = "d" + W.name();
      for (std::string_view prefix : prefixes) {
        const std::string moment = fmt::format("{}_{}", prefix, d);
        const auto own = opt.moments.begin() + opt.moment_count();
        const bool wanted = std::find(opt.moments.begin(), own, prefix) != own;
        const auto id = g_.find(moment);
        if ((id && g_.node(*id).op == OpKind::state) != wanted)
          bad("optimizer.kind", fmt::format("is '{}', but graph.json {} the moment {}", kind,
                                            wanted ? "lacks" : "holds", moment));
      }
    }
    if ((u.alpha0.id != u.alpha.id) != (c.decay_rate > 0.0))
      bad("optimizer.decay_rate", fmt::format("is {:g}, but graph.json {} a decaying alpha", c.decay_rate,
                                              c.decay_rate > 0.0 ? "lacks" : "holds"));
    // The settings recorded on the update nodes when minimize built them.
    for (Expr a : u.assigns) {
      const HyperAttrs& at = a.node().attr<HyperAttrs>();
      const std::pair<const char*, bool> differ[] = {{"optimizer.beta1", at.beta1 != c.beta1},
                                                     {"optimizer.beta2", at.beta2 != c.beta2},
                                                     {"optimizer.epsilon", at.epsilon != c.epsilon},
                                                     {"optimizer.weight_decay",
                                                      (opt.uses & optim::hyper::weight_decay) != 0 &&
                                                          at.weight_decay != c.weight_decay}};
      for (const auto& [field, d] : differ)
        if (d) bad(field, fmt::format("differs from the value graph.json's update {} was built with", name(a.id)));
    }
    if (m_.has_value(u.alpha0.name())) {
      const double alpha = m_.value(u.alpha0.name()).get(0);
      if (!(std::abs(alpha - c.learning_rate) <= 1e-6 * c.learning_rate))
        bad("optimizer.learning_rate", fmt::format("is {:g}, but the state {} holds {:g}", c.learning_rate,
                                                   u.alpha0.name(), alpha));
    }
  }

  // Values an optimizer can reach: t counts the updates made, s_dW
  // averages squares, alpha is a learning rate.
  void check_state_values() const {
    for (const std::string& v : m_.value_names()) {
      const runtime::Tensor& t = m_.value(v);
      const auto id = g_.find(v);
      if (!id || g_.node(*id).op != OpKind::state) continue;
      for (std::int64_t i = 0; i < t.size(); ++i) {
        const double x = t.get(i);
        if (v == "t" && !(x >= 0 && x == std::floor(x) && x <= static_cast<double>(m_.steps)))
          bad("values", fmt::format("gives Adam's step count t = {:g}; it counts updates: a whole number in "
                                    "[0, steps = {}]", x, m_.steps));
        if (v.starts_with("s_d") && x < 0)
          bad("values", fmt::format("gives {} the negative value {:g} at {}; it averages squares", v, x, i));
        if ((v == "alpha" || v == "alpha0") && !(x > 0))
          bad("values", fmt::format("gives the learning rate {} = {:g}; it must be > 0", v, x));
      }
    }
  }

  // The spec builds the graph's forward pass node for node, as build_mlp
  // made it (minimize appends after it).
  void check_spec() const {
    const Model built = build_mlp(*m_.spec, m_.dtype());
    const Graph& b = built.graph();
    const std::string spec = fmt::format("(layers {}, hidden {}, output {})", fmt::join(m_.spec->layers, ","),
                                         name_of(m_.spec->hidden), name_of(m_.spec->output));
    if (g_.size() < b.size())
      bad("spec", fmt::format("{} builds {} nodes; graph.json has {}", spec, b.size(), g_.size()));
    for (NodeId id = 0; id < b.size(); ++id) {
      const Node &x = b.node(id), &y = g_.node(id);
      if (x.op != y.op || x.inputs != y.inputs || x.shape != y.shape || x.name != y.name || !(x.attrs == y.attrs))
        bad("spec", fmt::format("{} builds node {} as {} {} {}; graph.json has {} {} {}", spec, id,
                                x.name.empty() ? "(unnamed)" : x.name, ops::op_def(x.op).name, to_string(x.shape),
                                y.name.empty() ? "(unnamed)" : y.name, ops::op_def(y.op).name, to_string(y.shape)));
    }
  }

  const Model& m_;
  const Graph& g_;
  std::string origin_;
  NodeId features_ = no_node, labels_ = no_node;
};

}  // namespace

void validate_model(const Model& model, std::string_view origin) { Checker(model, origin).run(); }

void check_reserved_names(const Model& model, std::string_view who) {
  const Graph& g = model.graph();
  for (std::string_view reserved : reserved_value_names)
    if (const auto id = g.find(reserved); id && (g.node(*id).op == OpKind::param || g.node(*id).op == OpKind::state))
      throw InputError(fmt::format("{}: the {} '{}' takes a name reserved for the input normalization's "
                                   "arrays (norm_mu, norm_sigma); rename it", who,
                                   g.node(*id).op == OpKind::param ? "parameter" : "state", reserved));
}

}  // namespace dagrad::models
