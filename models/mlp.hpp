// The notes' L-layer network, built from a spec. Logistic regression is the
// L = 1 case and the shallow network the L = 2 case:
//
//   Z[l] = W[l] A[l-1] + b[l]        (n[l] x m),  A[0] = X
//   A[l] = g[l](Z[l])                 hidden activation g (one, or one per layer); with dropout
//                                     A[l] = A[l] * D[l] / keep_prob[l]
//   A[L] = sigmoid(Z[L]), softmax(Z[L]) or Z[L] (linear, for regression)
//   J    = cross-entropy(A[L], Y) + lambda/(2m) sum_l ||W[l]||_F^2
//          (1/(2m) sum (A[L] - Y)^2 for a linear output)
//
// m is the symbolic sample count (m_dim) unless a number is given, so one
// graph trains on mini-batches of any size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph.hpp"

namespace dagrad::models {

enum class Activation { sigmoid, tanh, relu, leaky_relu };
enum class Output { sigmoid, softmax, linear };

struct ModelSpec {
  std::vector<std::int64_t> layers;     // n[0], n[1], ..., n[L]
  Activation hidden = Activation::relu;
  std::vector<Activation> hidden_each;  // empty: `hidden` in every hidden layer;
                                        // else one per hidden layer (layer 1 first)
  Output output = Output::sigmoid;
  double l2 = 0.0;                      // lambda; 0 = no penalty
  std::vector<double> keep_prob;        // empty, one value for every hidden
                                        // layer, or one per hidden layer
  double leaky_slope = 0.01;
  std::uint64_t seed = 1;               // dropout masks

  int depth() const { return static_cast<int>(layers.size()) - 1; }  // L
  // keep_prob of hidden layer l (1-based), 1.0 when none.
  double keep_prob_of(int l) const;
  // The activation of hidden layer l (1-based).
  Activation activation_of(int l) const;
  // Throws InputError naming the field for an impossible spec.
  void validate() const;
};

// The L-layer network's nodes, as the notes name them.
struct Mlp {
  Expr X, Y;                 // (n[0] x m), (n[L] x m)
  std::vector<Expr> W, b;    // W[0] is W1
  std::vector<Expr> Z, A;    // Z[0] is Z1; A[l-1] is A[l] after dropout
  Expr AL;                   // the prediction A[L]
  Expr cost;                 // the cross-entropy (the squared error when linear)
  Expr penalty;              // the L2 term, invalid when lambda = 0
  Expr J;                    // cost + penalty
  std::vector<Expr> params() const;  // W1, b1, W2, b2, ...
  std::vector<std::string> param_names() const;
};

Mlp build_mlp(Graph& g, const ModelSpec& spec, std::int64_t m = m_dim);

std::string_view name_of(Activation a);
std::string_view name_of(Output o);
Activation parse_activation(std::string_view s);  // InputError on unknown
Output parse_output(std::string_view s);

}  // namespace dagrad::models
