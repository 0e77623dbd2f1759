#include "dagrad/train/plan.hpp"

#include <cmath>

#include <fmt/format.h>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/error.hpp"

namespace dagrad::train {

std::unique_ptr<Plan> make_plan(const models::ModelSpec& spec, std::int64_t m, DType dtype,
                                PlanKind kind) {
  auto plan = std::make_unique<Plan>(dtype);
  plan->model = models::build_mlp(plan->graph, spec, m);
  std::vector<NodeId> outputs{plan->model.AL.id};
  if (kind != PlanKind::predict) outputs.push_back(plan->model.J.id);
  if (kind == PlanKind::train) {
    autodiff::GradientOptions quiet;
    quiet.warn = [](const std::string&) {};  // every parameter reaches J in an MLP
    plan->grads = autodiff::gradients(plan->model.J, plan->model.params(), quiet);
    for (Expr d : plan->grads) outputs.push_back(d.id);
  } else if (kind == PlanKind::evaluate) {
    outputs.push_back(plan->model.cost.id);
  }
  plan->exec = std::make_unique<runtime::Executor>(plan->graph, outputs);
  // The arena is allocated once: gradient buffers keep their address.
  for (Expr d : plan->grads) plan->grad_values.push_back(plan->exec->value(d.id));
  return plan;
}

void bind_params(Plan& plan, std::span<const runtime::Tensor> params) {
  const auto p = plan.model.params();
  if (p.size() != params.size())
    throw InputError(fmt::format("the model has {} parameters but {} were given", p.size(),
                                 params.size()));
  for (std::size_t k = 0; k < p.size(); ++k) plan.exec->bind(p[k].id, params[k]);
}

std::vector<std::pair<std::string, Shape>> expected_params(const models::ModelSpec& spec) {
  std::vector<std::pair<std::string, Shape>> out;
  for (int l = 1; l <= spec.depth(); ++l) {
    const auto n = spec.layers[static_cast<std::size_t>(l)];
    const auto n_prev = spec.layers[static_cast<std::size_t>(l - 1)];
    out.emplace_back(fmt::format("W{}", l), Shape{n, n_prev});
    out.emplace_back(fmt::format("b{}", l), Shape{n, 1});
  }
  return out;
}

std::vector<runtime::Tensor> params_from_named(const io::NamedMatrices& named,
                                               const models::ModelSpec& spec, DType dtype,
                                               std::string_view origin) {
  const auto expected = expected_params(spec);
  io::check_params_against(named, expected, origin);
  std::vector<runtime::Tensor> out;
  for (const auto& [name, shape] : expected)
    for (const auto& [n, m] : named)
      if (n == name) out.push_back(runtime::Tensor::from_matrix(m, dtype));
  return out;
}

io::NamedMatrices named_from_params(const models::ModelSpec& spec,
                                    std::span<const runtime::Tensor> params) {
  const auto expected = expected_params(spec);
  io::NamedMatrices out;
  for (std::size_t k = 0; k < expected.size() && k < params.size(); ++k)
    out.emplace_back(expected[k].first, params[k].to_matrix());
  return out;
}

io::Matrix targets_for(const models::ModelSpec& spec, const io::Matrix& Y, std::string_view origin) {
  const std::int64_t K = spec.layers.back();
  if (Y.rows() == K) return Y;
  if (spec.output != models::Output::softmax || Y.rows() != 1)
    throw InputError(fmt::format("{}: labels have {} rows but the output layer has {} units",
                                 origin, Y.rows(), K));
  io::Matrix one_hot(Shape{K, Y.cols()});
  for (std::int64_t i = 0; i < Y.cols(); ++i) {
    const double y = Y(0, i);
    if (!(y >= 0 && y < double(K) && y == std::floor(y)))
      throw InputError(fmt::format("{}: label {} of sample {} is not a class in 0..{}", origin, y,
                                   i, K - 1));
    one_hot(static_cast<std::int64_t>(y), i) = 1.0;
  }
  return one_hot;
}

}  // namespace dagrad::train
