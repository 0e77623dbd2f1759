// A model is a graph plus its state. The graph holds the forward pass and
// its cost, and once an optimizer is attached (minimize) the derived backward
// pass and the update nodes too; the model names what the nodes are for and
// holds the values of the parameters and of the optimizer state, the step
// and epoch counts and the input normalization. Any graph built with the DSL
// is a model: fit, save, load, resume and predict take it as it is.
//
//   models::Model model;
//   Graph& g = model.graph();
//   auto X = g.input("X", {2, m_dim});  auto Y = g.input("Y", {1, m_dim});
//   auto W1 = g.param("W1", {4, 2});    auto b1 = g.param("b1", {4, 1});
//   ...
//   model.set_cost(binary_cross_entropy(A2, Y).named("J"));
//   model.set_output(A2);
//   train::fit(model, data, nullptr, options);   // init, minimize, train
//   models::save_model(model, "flower.dagrad");
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/models/init.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/models/normalize.hpp"
#include "dagrad/runtime/tensor.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::models {

// What the model's prediction is, for the metrics: a sigmoid unit (accuracy
// at 0.5), a softmax (accuracy of the argmax) or anything else (regression:
// R^2).
enum class Task { binary, categorical, regression };

class Model {
 public:
  explicit Model(DType dtype = DType::f64);
  explicit Model(Graph graph);  // a graph built elsewhere (a file)
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // The graph lives as long as the model, at a fixed address: Exprs built
  // on it stay valid when the model is moved.
  Graph& graph() { return *graph_; }
  const Graph& graph() const { return *graph_; }
  DType dtype() const { return graph_->dtype(); }

  // ---- what the nodes are for ------------------------------------------
  // The cost J to minimize, a (1x1) node.
  void set_cost(Expr J);
  // The predictions (A[L]); several for a model with several heads.
  void set_output(Expr A) { set_outputs({A}); }
  void set_outputs(std::vector<Expr> outputs);
  // The cost reported on dev and test data (the MLP's cross-entropy without
  // the L2 term); the cost J when not set.
  void set_eval_cost(Expr cost);
  // The trained parameters; when not set, every param node J depends on.
  void set_params(std::vector<Expr> params);
  // The inputs a data set's features and labels feed; the inputs named X and
  // Y when not set.
  void set_features(Expr X);
  void set_labels(Expr Y);

  Expr cost() const;                  // GraphError when unset
  Expr eval_cost() const;
  std::vector<Expr> outputs() const;  // GraphError when unset
  Expr output() const { return outputs().front(); }
  std::vector<Expr> params() const;
  Expr features() const;              // GraphError when there is none
  Expr labels() const;                // invalid when there is none
  // The inputs whose shape holds m: cut into mini-batches column by column.
  std::vector<Expr> sample_inputs() const;
  Task task() const;                  // from output()'s op

  // ---- initialization ------------------------------------------------------
  // A parameter used as a matrix product's weight gets `init` scaled by its
  // fan-in (He, Xavier, small) and every other parameter (a bias) starts at
  // zero, unless set per parameter.
  void set_init(Init init);
  void set_init(std::string_view param, Init init);
  Init default_init() const { return init_; }
  // Gives every parameter without a value its initial value. The k-th
  // weight draws Philox stream k, so the notes' MLP starts as it always has.
  void init_params(std::uint64_t seed);

  // ---- values of parameters and optimizer state, by node name --------------
  bool has_value(std::string_view name) const;
  runtime::Tensor& value(std::string_view name);  // InputError naming an unknown one
  const runtime::Tensor& value(std::string_view name) const;
  // Checks the dtype and the leaf's shape.
  void set_value(std::string_view name, runtime::Tensor t);
  std::vector<std::string> value_names() const;

  // ---- the optimizer ----------------------------------------------------------
  // Appends the gradients and the update rule (train::minimize) once; the
  // state starts at zero and alpha at the learning rate.
  void minimize(const optim::OptimizerConfig& config);
  bool minimized() const { return updates_.has_value(); }
  const optim::OptimizerConfig& optimizer() const;
  const optim::Updates& updates() const;
  // A model read from a file whose graph already holds its update nodes.
  void adopt_updates(const optim::OptimizerConfig& config, optim::Updates updates);

  std::int64_t steps = 0;    // updates applied: the dropout counter of the next one
  std::int64_t epochs = 0;   // epochs completed
  std::int64_t batch_size = 0;  // the mini-batch size it was trained with (0: full batch)
  std::uint64_t seed = 1;    // initialization, shuffles and the dev split
  double dev_ratio = 0;      // the fraction of the data held out as a dev set (the CLI's --dev-ratio)
  // How the features were scaled as read (train::DataOptions): 0 divides
  // uint8 image data by 255 and leaves other data as it is (the CLI's
  // default); D > 0 divides every feature by D and nothing else (--scale D;
  // --no-scale is D = 1).
  double data_scale = 0;
  std::optional<Normalizer> normalization;  // applied to the features' data
  std::optional<ModelSpec> spec;  // the MLP spec the model was built from, if any

 private:
  Expr node(const std::optional<NodeId>& id, std::string_view what) const;
  std::unique_ptr<Graph> graph_;
  std::optional<NodeId> cost_, eval_cost_, features_, labels_;
  std::vector<NodeId> outputs_;
  std::optional<std::vector<NodeId>> params_;
  friend std::vector<std::pair<std::string, Init>> init_overrides(const Model& m);
  Init init_ = Init::he;
  std::map<std::string, Init, std::less<>> inits_;
  std::map<std::string, runtime::Tensor, std::less<>> values_;
  std::optional<optim::OptimizerConfig> optimizer_;
  std::optional<optim::Updates> updates_;
};

// The notes' L-layer network of `spec` as a model: cost J, output A[L],
// eval cost the cross-entropy (or squared error) without the L2 term.
Model build_mlp(const ModelSpec& spec, DType dtype = DType::f64);

// The initializers set per parameter (set_init(name, init)), by name.
std::vector<std::pair<std::string, Init>> init_overrides(const Model& m);

// For a parameter, the fan-in its initializer scales by, or nullopt when no
// matrix product uses it as a weight (a bias).
std::optional<std::int64_t> fan_in(const Graph& g, NodeId param);

}  // namespace dagrad::models
