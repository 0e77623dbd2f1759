// Gradient checking, as in the notes (C2W1): compare the derived gradient g
// with central differences g_approx[i] = (J(θ + eps e_i) - J(θ - eps e_i)) / 2eps
// through the relative difference
//
//   diff = ||g - g_approx||_2 / (||g||_2 + ||g_approx||_2)      (pass below 1e-7)
//
// All evaluations run in float64 (a float32 graph is rebuilt as f64 first) and
// with one RunOptions.step, so dropout masks stay frozen. A coordinate whose
// perturbation moves a relu / leaky_relu / step input to within eps of 0 is a
// kink: reported, left out of the difference, never a failure.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/io/matrix.hpp"

namespace dagrad::autodiff {

// Values of a graph's leaves (X, Y, W1, b1, ...) by node name, in float64.
using Feeds = std::vector<std::pair<std::string, io::Matrix>>;

struct CheckOptions {
  double eps = 1e-7;
  double threshold = 1e-7;
  // The per-node check's step. It differences one scalar <u, f(x + t r)>,
  // whose rounding (1e-16 |f| / eps) would dominate at 1e-7 for reductions
  // such as l2_penalty; at 1e-5 truncation (eps^2 |f'''| / 6) is ~1e-11.
  double node_eps = 1e-5;
  std::int64_t samples = 20;  // coordinates per parameter, drawn with `seed`
  bool full = false;          // check every coordinate instead
  std::uint64_t seed = 1;     // sampled coordinates and random projections
  std::uint64_t step = 0;     // RunOptions.step of every evaluation
  // Receives autodiff's warnings (a parameter J does not depend on).
  std::function<void(const std::string&)> warn;
};

struct ParamCheck {
  std::string name;
  Shape shape;
  std::int64_t checked = 0;  // coordinates compared (kinks excluded)
  std::int64_t kinks = 0;
  double rel_diff = 0.0;
  bool pass = true;
  io::Matrix grad;  // the analytic gradient (every coordinate)
};

struct CheckReport {
  std::vector<ParamCheck> params;
  double rel_diff = 0.0;  // over every checked coordinate of every parameter
  std::int64_t kinks = 0;
  bool full = false;
  bool pass = true;
};

// Checks dJ/dparams. `grads`, when not empty, are the graph's own gradient
// nodes to check (one per param, e.g. a saved backward pass); otherwise they
// are derived with gradients(). Every leaf J reads must be in `feeds`.
CheckReport gradcheck(const Graph& graph, NodeId J, std::span<const NodeId> params,
                      const Feeds& feeds, const CheckOptions& options = {},
                      std::span<const NodeId> grads = {});

// The per-node check: for each op y = f(x1..xk) on a path from a parameter to J
// (in topological order), compare the rule's vector-Jacobian product
// sum_k <r_k, J_f^T u> with the central difference of <u, f(x + eps r)>, for
// random u, r at the values of the current point.
struct NodeCheck {
  NodeId id = 0;
  std::string node;  // "Z1 (add)" or "%17 (mul)"
  double rel_diff = 0.0;
  std::int64_t kinks = 0;  // elements of r zeroed because they sat on a kink
  bool pass = true;
};

struct NodeReport {
  std::vector<NodeCheck> nodes;
  std::optional<std::size_t> first_failure;  // index into nodes
  bool pass() const { return !first_failure; }
};

NodeReport check_rules(const Graph& graph, NodeId J, std::span<const NodeId> params,
                       const Feeds& feeds, const CheckOptions& options = {});

// ||a - b||_2 / (||a||_2 + ||b||_2), 0 when both are zero.
double relative_difference(std::span<const double> a, std::span<const double> b);

// A copy of `graph` in float64 with the same node ids (nodes are re-added in
// id order, which is topological for any graph built by add or from_nodes).
// With m > 0, the copy has m in place of the symbolic sample count: in
// every shape and every scale (a concrete graph of the fed data's size).
Graph to_f64(const Graph& graph, std::int64_t m = 0);

}  // namespace dagrad::autodiff
