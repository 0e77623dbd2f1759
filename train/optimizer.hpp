// Optimizers as graph updates. minimize(J, params, config) derives dJ/dW and
// appends the update rule as nodes of J's graph (Role::update), as Theano's
// `updates` and TF1's `optimizer.minimize(loss)` do; one plan then runs
// forward, backward and update. With dW = dJ/dW and t = 1, 2, ... the step:
//   gd        W = W - alpha dW
//   momentum  v_dW = beta1 v_dW + (1 - beta1) dW;            W = W - alpha v_dW
//   rmsprop   s_dW = beta2 s_dW + (1 - beta2) dW^2;          W = W - alpha dW / (sqrt(s_dW) + epsilon)
//   adam      v_dW, s_dW as above; v_corr = v_dW / (1 - beta1^t), s_corr = s_dW / (1 - beta2^t);
//             W = W - alpha v_corr / (sqrt(s_corr) + epsilon)   (the notes' bias correction)
//   decay     alpha = alpha0 / (1 + decay_rate epoch)           (when decay_rate > 0)
// The moments, t and alpha0 are state leaves of the graph (Graph::state),
// updated by assign nodes; passes::optimize fuses each parameter's update
// into one loop (ops/sgd_update.cpp ...), and the unfused nodes stay the
// reference.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph.hpp"

namespace dagrad::train {

enum class OptimizerKind { gd, momentum, rmsprop, adam };

OptimizerKind parse_optimizer(std::string_view s);  // InputError on unknown names
std::string_view name_of(OptimizerKind k);

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::gd;
  double learning_rate = 0.0075;  // alpha (alpha0 when it decays)
  double beta1 = 0.9;     // momentum / Adam first moment
  double beta2 = 0.999;   // RMSprop / Adam second moment
  double epsilon = 1e-8;
  double decay_rate = 0.0;  // alpha = alpha0 / (1 + decay_rate * epoch)
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
  Expr t;                     // the step count (invalid for gd and momentum)
  Expr epoch;                 // the epoch input (invalid without decay)
};

// Appends the gradients of J and the update of every parameter. Throws
// InputError for a bad config, GraphError when J's graph already has an
// update for one of `params`.
Updates minimize(Expr J, std::span<const Expr> params, const OptimizerConfig& config);

// The nodes minimize() made, found again by their names and places in a
// graph read from a file. GraphError naming what is missing.
Updates find_updates(Graph& g, std::span<const Expr> params);

}  // namespace dagrad::train
