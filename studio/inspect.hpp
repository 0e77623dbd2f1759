// The derivation of a model as the studio shows it: its graph as `dagrad
// dot` draws it (viz::to_dot, rendered by Graphviz), every node named and
// shaped in the notes' notation (viz::Notation) with the equation `dagrad
// explain` prints for it (viz::explain_lines), and the value of every node
// on one batch at the current parameters.
//
// The values come from a plan of its own over the model's unfused graph
// (forward, backward and update; ExecutorOptions plan.share = false, so
// every intermediate stays readable), bound to copies of the parameters and
// the optimizer state: the update nodes run on the copies, so inspecting
// never changes the training run. The batch is the one the next update
// takes, so a node's value is what that update computes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dagrad/models/model.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/viz/notation.hpp"

namespace dagrad::studio {

struct NodeInfo {
  NodeId id = 0;
  std::string name;      // as explain writes it: dZ[2], W[1]; "W[1]:=" for W[1]'s update; %17 unnamed
  std::string op;        // the registry's name: sub, matmul, assign
  std::string shape;     // n[1] x m
  std::string phase;     // forward, backward or update
  std::string equation;  // explain's line "dZ[2] = A[2] - Y", or "" (a leaf, an inlined node)
  std::vector<NodeId> inputs;
};

// A node's value: the leading rows x cols, and min and max over all of it.
struct NodeValue {
  std::int64_t rows = 0, cols = 0;  // the whole value's shape
  std::int64_t shown_rows = 0, shown_cols = 0;
  std::vector<double> data;  // shown_rows x shown_cols, row-major
  double min = 0, max = 0;
};

class Inspector {
 public:
  static constexpr std::uint64_t max_bytes = std::uint64_t{512} << 20;  // every value of one batch

  // The model must have its optimizer (Model::minimize). GraphError if the
  // graph cannot be planned.
  explicit Inspector(const models::Model& model);

  // Every scheduled node, in the plan's schedule order.
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  // The index into nodes() of a node by its name; nullopt when unknown.
  std::optional<std::size_t> find(std::string_view name) const;
  // The SVG `dagrad dot` draws, each node's <g> carrying data-node="<name>".
  // InputError when Graphviz is missing. Rendered once, then kept.
  const std::string& svg();
  // `dagrad explain --latex` for the model.
  std::string latex() const;
  std::string text() const;  // `dagrad explain`

  // Runs the plan on `data` (each sample input with its whole data, as
  // train::sample_data gives it), columns `batch` (empty: all), at the
  // model's current values and dropout step; `key` names the model state
  // (a later call with the same key reuses the values).
  void evaluate(const models::Model& model, const std::vector<std::pair<Expr, runtime::Tensor>>& data,
                std::span<const std::int64_t> batch, std::uint64_t key);
  // The value of nodes()[k] after evaluate(): a parameter or state leaf as
  // it was before the update, any other node as the plan computed it.
  NodeValue value(std::size_t k, std::int64_t rows, std::int64_t cols) const;
  double element(std::size_t k, std::int64_t i, std::int64_t j) const;
  Shape shape_of(std::size_t k) const;
  // nodes()[k]'s element (i, j) with its operands' numbers plugged in:
  // "dZ[2][0,3] = 0.731 - 1 = -0.269". InputError for (i, j) outside it.
  std::string plugged(std::size_t k, std::int64_t i, std::int64_t j) const;

 private:
  ops::Buffer buffer(NodeId id) const;

  viz::Derivation d_;
  std::vector<NodeId> outputs_;
  std::unique_ptr<runtime::Executor> exec_;
  std::vector<NodeInfo> nodes_;
  std::vector<std::optional<std::size_t>> index_of_;  // by node id
  std::string svg_;
  // Copies bound to the plan (the updates overwrite them) and the values
  // before the run, by leaf id; the batch of every sample input.
  std::vector<std::pair<NodeId, runtime::Tensor>> bound_, before_, batch_;
  runtime::Tensor epoch_;
  std::optional<std::uint64_t> key_;
  std::int64_t m_ = 0;
};

}  // namespace dagrad::studio
