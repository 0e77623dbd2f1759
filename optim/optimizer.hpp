// Optimizers as graph updates. minimize(J, params, config) derives dJ/dW and
// appends the update rule as nodes of J's graph (Role::update), as Theano's
// `updates` and TF1's `optimizer.minimize(loss)` do; one plan then runs
// forward, backward and update. With dW = dJ/dW and t = 1, 2, ... each
// optimizer's file (listed in optim/registry.hpp) gives its step, e.g.
//   gd        W = W - alpha dW                                  optim/sgd.cpp
//   adam      v_dW, s_dW moving averages, bias-corrected         optim/adam.cpp
//   decay     alpha = alpha0 / (1 + decay_rate epoch)           (when decay_rate > 0)
// The moments, t and alpha0 are state leaves of the graph (Graph::state),
// updated by assign nodes. passes::optimize fuses each parameter's update
// into one `update` node that runs the optimizer's element rule, found by
// matching the optimizer's own equations (optim/match.hpp); the unfused
// nodes stay the reference that explain, dot and the tests read.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/ops/update_rule.hpp"
#include "dagrad/optim/registry.hpp"

namespace dagrad::optim {

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::gd;
  double learning_rate = 0.0075;  // alpha (alpha0 when it decays)
  double beta1 = 0.9;     // first moment (momentum, Adam: v)
  double beta2 = 0.999;   // second moment (Adam: s)
  double epsilon = 1e-8;
  double decay_rate = 0.0;  // alpha = alpha0 / (1 + decay_rate * epoch)
  double weight_decay = 0.01;  // AdamW's decoupled decay (torch.optim.AdamW's default)
  void validate() const;  // InputError naming the flag
  friend bool operator==(const OptimizerConfig&, const OptimizerConfig&) = default;
};

// The nodes minimize() added. The state leaves start at zero except alpha
// (or alpha0), which holds the learning rate; `epoch` is an input the
// trainer feeds (1x1) when alpha decays.
struct Updates {
  std::vector<Expr> assigns;  // the plan's outputs: W1's, b1's, ... (and t's) assigns
  std::vector<Expr> grads;    // dJ/dW for each parameter, in order
  std::vector<Expr> state;    // v_dW1, s_dW1, ..., t, alpha: every state leaf
  Expr alpha;                 // the learning rate of this step
  Expr alpha0;                // the state leaf holding the learning rate
  Expr t;                     // the step count (invalid unless the optimizer counts steps)
  Expr epoch;                 // the epoch input (invalid without decay)
};

// Appends the gradients of J and the update of every parameter, all or
// nothing. Throws InputError for a bad config, GraphError when J's graph
// already has an update for one of `params` or a node with a name the
// optimizer gives its own (alpha, t, v_dW1, ...).
Updates minimize(Expr J, std::span<const Expr> params, const OptimizerConfig& config);

// The nodes minimize() made, found again by their names and places in a
// graph read from a file. GraphError naming what is missing.
Updates find_updates(Graph& g, std::span<const Expr> params);

// The hyper-parameters an optimizer reads (Optimizer::uses).
namespace hyper {
inline constexpr unsigned beta1 = 1, beta2 = 2, epsilon = 4, weight_decay = 8;
struct Named {
  unsigned bit;
  std::string_view name;  // OptimizerConfig's field, model.json's key, the studio's config key
};
inline constexpr std::array<Named, 4> all{
    {{beta1, "beta1"}, {beta2, "beta2"}, {epsilon, "epsilon"}, {weight_decay, "weight_decay"}}};
}  // namespace hyper

// Builds update nodes with Graph::add directly, not through the DSL: the DSL
// would move scales and fold constants, and the fusion pass matches exactly
// the nodes an optimizer's equations build. Assigns carry the config's
// hyper-parameters as attributes (for explain's symbols and the fused node).
class Builder {
 public:
  Builder(Graph& g, const OptimizerConfig& c, unsigned uses);
  Graph& graph() { return g_; }
  Expr op(OpKind k, std::initializer_list<Expr> xs, const Attrs& a = {});
  Expr scaled(Expr x, double s, double offset = 0.0);  // s x + offset
  Expr average(Expr m, Expr x, double beta);           // beta m + (1 - beta) x
  Expr constant(double v) { return g_.constant(v, {1, 1}); }
  Expr assign(Expr target, Expr value);                // target := value
  // Names e, unless a node made by this builder has the name already;
  // GraphError when a node of the user's has it.
  Expr named(Expr e, const std::string& name);
  // A state leaf (a moment, t, alpha), refused like named().
  Expr state(const std::string& name, Shape shape);
  // GraphError when a node of the user's is called `name`.
  void refuse_taken(const std::string& name) const;
  const HyperAttrs& hyper() const { return hyper_; }

 private:
  Graph& g_;
  HyperAttrs hyper_;
  NodeId first_;  // the nodes from here on are the builder's
};

// One parameter's step, as an optimizer's equations read it.
struct ParamStep {
  Expr W, dW, alpha;
  // Moment k's state leaf (Optimizer::moments[k]), made at the first call.
  std::function<Expr(int)> moment;
  std::span<const Expr> scalars;  // what Optimizer::step made this step
  std::string d;                  // the gradient's name, "dW1": names the nodes made (v_corr_dW1)
};

using StepScalars = std::array<Expr, ops::max_step_scalars>;

struct Optimizer {
  OptimizerKind kind;     // its entry in optim/registry.hpp
  std::string_view name;  // --optimizer NAME and model.json's optimizer.kind
  // Its state per parameter: moment k is the state leaf "<moments[k]>_dW1".
  std::array<std::string_view, 2> moments;
  bool counts_steps;      // keeps the step count t (t = t + 1 each step)
  unsigned uses;          // the hyper:: bits it reads
  // Once per step, after t's update: the scalars every parameter's step
  // reads (Adam's 1 - beta1^t, 1 - beta2^t); t is invalid unless
  // counts_steps. Null when there are none.
  StepScalars (*step)(Builder& b, Expr t, Expr alpha, const OptimizerConfig& c);
  // The equations of one parameter's step: assigns its moments through
  // b.assign and returns W's new value.
  Expr (*equations)(Builder& b, const ParamStep& p, const OptimizerConfig& c);
  // The fused update's loop: the same arithmetic as `equations`.
  const ops::UpdateRule* rule;

  int moment_count() const { return rule->moments; }
};

// Adam's pieces (optim/adam.cpp), for the optimizers built on it: the step's
// scalars c1 = 1 - beta1^t, c2 = 1 - beta2^t, and, with p.scalars[0..1]
// = c1, c2, the moments' assigns and the step alpha v_corr / (sqrt(s_corr) + epsilon).
StepScalars adam_scalars(Builder& b, Expr t, Expr alpha, const OptimizerConfig& c);
Expr adam_step(Builder& b, const ParamStep& p, const OptimizerConfig& c);

}  // namespace dagrad::optim

// The trainer's names for these, kept for its users (train::OptimizerKind::adam,
// train::OptimizerConfig, train::minimize).
namespace dagrad::train {
using optim::find_updates;
using optim::minimize;
using optim::name_of;
using optim::OptimizerConfig;
using optim::OptimizerKind;
using optim::parse_optimizer;
using optim::Updates;
}  // namespace dagrad::train
