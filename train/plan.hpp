// A compiled model for one batch width m: the notes' graph (build_mlp), its
// backward nodes when training, and one Executor plan over them. Parameters
// are bound, not copied: plans of several widths (the full batch and the
// last partial mini-batch) share the same parameter Tensors.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/io/matrix.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/runtime/tensor.hpp"

namespace dagrad::train {

struct Plan {
  Graph graph;
  models::Mlp model;
  std::vector<Expr> grads;              // dW1, db1, ... (training plans only)
  std::unique_ptr<runtime::Executor> exec;
  std::vector<ops::Buffer> grad_values;  // where run() leaves each gradient

  explicit Plan(DType dtype) : graph(dtype) {}
};

// What a plan computes: train {J, AL, dW1, db1, ...}; evaluate {J, AL, cost};
// predict {AL} (no Y to bind).
enum class PlanKind { train, evaluate, predict };
std::unique_ptr<Plan> make_plan(const models::ModelSpec& spec, std::int64_t m, DType dtype,
                                PlanKind kind);
void bind_params(Plan& plan, std::span<const runtime::Tensor> params);

// The parameter names and shapes a spec needs: W1 (n1 x n0), b1 (n1 x 1), ...
std::vector<std::pair<std::string, Shape>> expected_params(const models::ModelSpec& spec);
// Checks a loaded file against the spec (io::check_params_against: a wrong
// shape names the parameter and both shapes) and converts in model order.
std::vector<runtime::Tensor> params_from_named(const io::NamedMatrices& named,
                                               const models::ModelSpec& spec, DType dtype,
                                               std::string_view origin);
io::NamedMatrices named_from_params(const models::ModelSpec& spec,
                                    std::span<const runtime::Tensor> params);

// Y as the model wants it: labels (1 x m) stay for a sigmoid output; for a
// softmax output with K units integer labels become one-hot (K x m).
io::Matrix targets_for(const models::ModelSpec& spec, const io::Matrix& Y, std::string_view origin);

}  // namespace dagrad::train
