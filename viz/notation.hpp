// The notes' symbols for what a graph holds: names Z1, dW2, A1_drop become
// Z[1], dW[2], A[1]; a dimension equal to a layer size becomes n[l] and one
// equal to the sample count becomes m; a scale equal to 1/m or lambda/m is
// written so. Shared by the Graphviz export (viz/dot.hpp) and `explain`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/train/optimizer.hpp"

namespace dagrad::viz {

enum class Style { text, latex };

// One dimension in symbols: n[layer] when layer >= 0, m when is_m, else value.
struct SymbolicDim {
  std::int64_t value = 0;
  int layer = -1;
  bool is_m = false;
};

struct SymbolicShape {
  SymbolicDim rows, cols;
};

// What a name in the notes is made of: "dA1_drop" = {d, A, 1, drop}.
struct NotesName {
  bool gradient = false;  // leading d
  std::string base;       // Z, A, W, b, D, X, Y, J ...
  int layer = -1;         // -1 when the name has no layer number
  bool dropped = false;   // the _drop suffix: after the dropout mask
};
// The parts of a name of the form [d]Base[digits][_drop]; nullopt otherwise.
std::optional<NotesName> parse_notes_name(std::string_view name);

struct Notation {
  std::vector<std::int64_t> layers;  // n[0..L]; empty when unknown
  std::int64_t m = 0;                // the sample count (m_dim: symbolic); 0 when unknown
  double lambda = 0.0;               // the L2 strength; 0 when none
  // The optimizer's hyperparameters, read from its update nodes; absent
  // without an optimizer.
  std::optional<double> beta1, beta2, epsilon;

  // Reads n[0] from X, n[l] from W{l} (W1, W2, ... while they exist), m from
  // X's columns, lambda from an l2_penalty node and beta1, beta2, epsilon
  // from the optimizer's assign nodes (train::minimize).
  static Notation from_graph(const Graph& g);
  // A number of an optimizer's update in symbols: beta1, (1 - beta1),
  // beta2, (1 - beta2), epsilon; nullopt for any other number.
  std::optional<std::string> hyper(double v, Style style) const;

  // "Z1" -> "Z[1]" (text) or "Z^{[1]}" (latex); an optimizer's moment
  // "v_dW1" -> "v_dW[1]" or "v_{dW^{[1]}}" ("v_corr_dW1": v^{corr}); a name
  // not from the notes is returned as is (latex: in \mathrm{}).
  std::string name(std::string_view raw, Style style = Style::text) const;
  // "1", "m", "n[1]" or the number.
  std::string dim(const SymbolicDim& d, Style style = Style::text) const;
  // "(n[1] x m)" or "(n^{[1]} \times m)".
  std::string shape(const SymbolicShape& s, Style style = Style::text) const;
  // A dimension from its value alone: m, 1, n[l] when exactly one layer has
  // that size, else the number.
  SymbolicDim dim_of_value(std::int64_t v) const;
  // A scale factor in symbols when it is 1/m, -1/m or lambda/m: "1/m", else
  // nullopt. `lambda_first` prefers lambda/m when both match (lambda = 1). A
  // factor holding the symbolic m is always written with it ("0.5/m").
  std::optional<std::string> scale(Scale s, Style style, bool lambda_first = false) const;
};

// Every node's shape in symbols. Leaves named as the model builder names them
// (X, Y, W{l}, b{l}, D{l}) get their symbols by name; other leaves by value.
// Matmul, transpose and sum follow their shape rules; every other op takes
// each dimension from an operand with the same size.
std::vector<SymbolicShape> symbolic_shapes(const Graph& g, const Notation& notation);

// A parameter and the node holding its gradient (W1 and dW1).
struct ParamGradient {
  NodeId param = 0;
  NodeId grad = 0;
};

// A model with its derived backward graph: what `dagrad dot` draws and
// `dagrad explain` prints.
struct Derivation {
  Graph graph;
  NodeId J = 0;
  std::optional<NodeId> prediction;    // A[L] when the graph names it
  std::vector<NodeId> grads;           // the gradient outputs
  std::vector<ParamGradient> updates;  // parameter -> its gradient
  std::vector<NodeId> assigns;         // the optimizer's update nodes, when it has one
  Notation notation;

  std::vector<NodeId> outputs() const;  // J, then the gradients
};

// The spec's model with the symbolic sample count m and gradients from
// autodiff::gradients(J, params); with an optimizer, its update nodes too
// (train::minimize).
Derivation derive_mlp(const models::ModelSpec& spec, DType dtype = DType::f64,
                      const train::OptimizerConfig* optimizer = nullptr);
// A model: its graph, gradients and (when it has one) optimizer updates, as
// they are or derived now.
Derivation derivation_of(const models::Model& model, const train::OptimizerConfig* optimizer = nullptr);
// A graph read from a file: J is the node named "J"; the gradients are the
// nodes named "d" + each parameter's name. A graph without backward nodes
// gets them derived now. InputError when there is no J.
Derivation derivation_of(Graph g);

// A number in the shortest form that reads back exactly: 0.5, 1e-05, 0.7.
std::string format_number(double v);

}  // namespace dagrad::viz
