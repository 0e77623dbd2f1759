#include "dagrad/models/model.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::models {

Model::Model(DType dtype) : graph_(std::make_unique<Graph>(dtype)) {}
Model::Model(Graph graph) : graph_(std::make_unique<Graph>(std::move(graph))) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

namespace {

NodeId own(const Graph& g, Expr e, std::string_view what) {
  if (!e.valid()) throw GraphError(fmt::format("model: the {} is an empty expression", what));
  if (e.graph != &g) throw GraphError(fmt::format("model: the {} belongs to another graph", what));
  return e.id;
}

NodeId input_named(const Graph& g, std::string_view name) {
  const auto id = g.find(name);
  return id && g.node(*id).op == OpKind::input ? *id : ~NodeId{0};
}

}  // namespace

Expr Model::node(const std::optional<NodeId>& id, std::string_view what) const {
  if (!id) throw GraphError(fmt::format("model: no {} is set", what));
  return graph_->expr(*id);
}

void Model::set_cost(Expr J) {
  const NodeId id = own(*graph_, J, "cost");
  if (!graph_->node(id).shape.is_scalar())
    throw ShapeError(fmt::format("model: the cost {} must be (1x1), not {}", graph_->describe(id),
                                 to_string(graph_->node(id).shape)));
  cost_ = id;
}

void Model::set_outputs(std::vector<Expr> outputs) {
  if (outputs.empty()) throw GraphError("model: give at least one output");
  outputs_.clear();
  for (Expr e : outputs) outputs_.push_back(own(*graph_, e, "output"));
}

void Model::set_eval_cost(Expr cost) {
  const NodeId id = own(*graph_, cost, "evaluation cost");
  if (!graph_->node(id).shape.is_scalar())
    throw ShapeError(fmt::format("model: the evaluation cost {} must be (1x1)", graph_->describe(id)));
  eval_cost_ = id;
}

void Model::set_params(std::vector<Expr> params) {
  std::vector<NodeId> ids;
  for (Expr p : params) {
    const NodeId id = own(*graph_, p, "parameter");
    if (graph_->node(id).op != OpKind::param)
      throw GraphError(fmt::format("model: {} is a {} node, not a parameter", graph_->describe(id),
                                   ops::op_def(graph_->node(id).op).name));
    ids.push_back(id);
  }
  params_ = std::move(ids);
}

void Model::set_features(Expr X) { features_ = own(*graph_, X, "features input"); }
void Model::set_labels(Expr Y) { labels_ = own(*graph_, Y, "labels input"); }

Expr Model::cost() const { return node(cost_, "cost (set_cost)"); }
Expr Model::eval_cost() const { return eval_cost_ ? graph_->expr(*eval_cost_) : cost(); }

std::vector<Expr> Model::outputs() const {
  if (outputs_.empty()) throw GraphError("model: no output is set (set_output)");
  std::vector<Expr> out;
  for (NodeId id : outputs_) out.push_back(graph_->expr(id));
  return out;
}

std::vector<Expr> Model::params() const {
  std::vector<Expr> out;
  if (params_) {
    for (NodeId id : *params_) out.push_back(graph_->expr(id));
    return out;
  }
  const NodeId J[] = {cost().id};
  const std::vector<bool> feeds_j = graph_->ancestors_of(J);
  for (NodeId id = 0; id < graph_->size(); ++id)
    if (graph_->node(id).op == OpKind::param && feeds_j[id]) out.push_back(graph_->expr(id));
  return out;
}

Expr Model::features() const {
  if (features_) return graph_->expr(*features_);
  const NodeId X = input_named(*graph_, "X");
  if (X == ~NodeId{0})
    throw GraphError("model: no input named X, and no features input is set (set_features)");
  return graph_->expr(X);
}

Expr Model::labels() const {
  if (labels_) return graph_->expr(*labels_);
  const NodeId Y = input_named(*graph_, "Y");
  return Y == ~NodeId{0} ? Expr{} : graph_->expr(Y);
}

std::vector<Expr> Model::sample_inputs() const {
  std::vector<Expr> out;
  for (NodeId id = 0; id < graph_->size(); ++id)
    if (const Node& n = graph_->node(id); n.op == OpKind::input && n.shape.symbolic())
      out.push_back(graph_->expr(id));
  return out;
}

Task Model::task() const {
  switch (output().node().op) {
    case OpKind::sigmoid: return Task::binary;
    case OpKind::softmax: return Task::categorical;
    default: return Task::regression;
  }
}

// ---- initialization ----------------------------------------------------------

std::optional<std::int64_t> fan_in(const Graph& g, NodeId param) {
  for (NodeId reader : g.consumers(param)) {
    const Node& n = g.node(reader);
    // The forward product: the backward pass reads W transposed (W^T dZ).
    if (n.op != OpKind::matmul || n.role == Role::backward || n.role == Role::update) continue;
    const Shape s = g.node(param).shape;
    // W in W A (fan-in: its columns) or in A W (its rows); transposes swap.
    if (n.inputs[0] == param) return n.attr<MatmulAttrs>().trans_a ? s.rows : s.cols;
    if (n.inputs[1] == param) return n.attr<MatmulAttrs>().trans_b ? s.cols : s.rows;
  }
  return std::nullopt;
}

void Model::set_init(Init init) { init_ = init; }

void Model::set_init(std::string_view param, Init init) {
  const auto id = graph_->find(param);
  if (!id || graph_->node(*id).op != OpKind::param)
    throw InputError(fmt::format("model: no parameter named '{}' to initialize", param));
  inits_.insert_or_assign(std::string(param), init);
}

std::vector<std::pair<std::string, Init>> init_overrides(const Model& m) {
  return {m.inits_.begin(), m.inits_.end()};
}

void Model::init_params(std::uint64_t seed) {
  std::uint64_t stream = 0;
  for (Expr p : params()) {
    const auto fan = fan_in(*graph_, p.id);
    if (fan) ++stream;  // the k-th weight draws stream k, whether or not it is drawn now
    if (has_value(p.name())) continue;
    const auto it = inits_.find(p.name());
    const Init init = it != inits_.end() ? it->second : fan ? init_ : Init::zeros;
    values_.insert_or_assign(
        p.name(), init_weight(p.shape(), init, static_cast<double>(fan.value_or(1)), seed,
                                     stream, dtype()));
  }
}

// ---- values --------------------------------------------------------------------

bool Model::has_value(std::string_view name) const { return values_.find(name) != values_.end(); }

runtime::Tensor& Model::value(std::string_view name) {
  auto it = values_.find(name);
  if (it == values_.end())
    throw InputError(fmt::format("model: '{}' has no value (not a parameter or state, or not "
                                 "initialized yet)", name));
  return it->second;
}

const runtime::Tensor& Model::value(std::string_view name) const {
  return const_cast<Model*>(this)->value(name);
}

void Model::set_value(std::string_view name, runtime::Tensor t) {
  const auto id = graph_->find(name);
  if (!id || (graph_->node(*id).op != OpKind::param && graph_->node(*id).op != OpKind::state))
    throw InputError(fmt::format("model: '{}' is not a parameter or state of the graph", name));
  const Node& n = graph_->node(*id);
  if (t.shape() != n.shape)
    throw InputError(fmt::format("model: {} has shape {} but the graph declares {}", name,
                                 to_string(t.shape()), to_string(n.shape)));
  if (t.dtype() != dtype())
    throw InputError(fmt::format("model: {} holds {} values but the model is {}", name,
                                 dtype_name(t.dtype()), dtype_name(dtype())));
  values_.insert_or_assign(std::string(name), std::move(t));
}

std::vector<std::string> Model::value_names() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : values_) out.push_back(name);
  return out;
}

// ---- the optimizer -------------------------------------------------------------

void Model::minimize(const optim::OptimizerConfig& config) {
  if (updates_) throw GraphError("model: the optimizer is already attached");
  const std::vector<Expr> ps = params();
  if (ps.empty()) throw GraphError("model: the cost depends on no parameter: nothing to train");
  optim::Updates u = optim::minimize(cost(), ps, config);
  for (Expr s : u.state) values_.insert_or_assign(s.name(), runtime::Tensor(dtype(), s.shape()));
  value(u.alpha0.name()).set(0, config.learning_rate);
  optimizer_ = config;
  updates_ = std::move(u);
}

const optim::OptimizerConfig& Model::optimizer() const {
  if (!optimizer_) throw GraphError("model: no optimizer is attached (minimize)");
  return *optimizer_;
}

const optim::Updates& Model::updates() const {
  if (!updates_) throw GraphError("model: no optimizer is attached (minimize)");
  return *updates_;
}

void Model::adopt_updates(const optim::OptimizerConfig& config, optim::Updates updates) {
  optimizer_ = config;
  updates_ = std::move(updates);
}

Model build_mlp(const ModelSpec& spec, DType dtype) {
  Model model(dtype);
  const Mlp net = build_mlp(model.graph(), spec);
  model.set_cost(net.J);
  model.set_output(net.AL);
  model.set_eval_cost(net.cost);
  model.set_params(net.params());
  model.set_features(net.X);
  model.set_labels(net.Y);
  model.spec = spec;
  model.seed = spec.seed;
  return model;
}

}  // namespace dagrad::models
