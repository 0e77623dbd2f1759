// Inference: predict, accuracy and evaluate (declared in train/fit.hpp).
#include <cmath>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/plan.hpp"

namespace dagrad::train {

namespace {

DType dtype_of(std::span<const runtime::Tensor> params) {
  if (params.empty()) throw InputError("no parameters to predict with");
  return params[0].dtype();
}

io::Matrix matrix_of(const runtime::Executor& exec, NodeId id, DType dtype) {
  const ops::Buffer b = exec.value(id);
  io::Matrix out(b.shape);
  for (std::size_t i = 0; i < out.values.size(); ++i)
    out.values[i] = dtype == DType::f32 ? double(b.as<const float>()[i]) : b.as<const double>()[i];
  return out;
}

}  // namespace

io::Matrix predict(const models::ModelSpec& spec, std::span<const runtime::Tensor> params,
                   const io::Matrix& X) {
  const DType dtype = dtype_of(params);
  if (X.rows() != spec.layers[0])
    throw InputError(fmt::format("predict: the data has {} features but the model takes n[0] = {}",
                                 X.rows(), spec.layers[0]));
  auto plan = make_plan(spec, X.cols(), dtype, PlanKind::predict);
  bind_params(*plan, params);
  const runtime::Tensor x = runtime::Tensor::from_matrix(X, dtype);
  plan->exec->bind(plan->model.X.id, x);
  plan->exec->run({.training = false, .step = 0});
  return matrix_of(*plan->exec, plan->model.AL.id, dtype);
}

double accuracy(const io::Matrix& AL, const io::Matrix& Y) {
  if (AL.cols() != Y.cols() || AL.cols() == 0)
    throw InputError(fmt::format("accuracy: {} predictions for {} labels", AL.cols(), Y.cols()));
  std::int64_t right = 0;
  for (std::int64_t i = 0; i < AL.cols(); ++i) {
    if (AL.rows() == 1) {  // sigmoid: predict 1 when a > 0.5
      right += (AL(0, i) > 0.5 ? 1.0 : 0.0) == Y(0, i);
      continue;
    }
    std::int64_t best = 0, label = 0;
    for (std::int64_t r = 1; r < AL.rows(); ++r)
      if (AL(r, i) > AL(best, i)) best = r;
    if (Y.rows() == 1) label = static_cast<std::int64_t>(Y(0, i));
    else
      for (std::int64_t r = 1; r < Y.rows(); ++r)
        if (Y(r, i) > Y(label, i)) label = r;
    right += best == label;
  }
  return static_cast<double>(right) / static_cast<double>(AL.cols());
}

Evaluation evaluate(const models::ModelSpec& spec, std::span<const runtime::Tensor> params,
                    const io::Dataset& data) {
  const DType dtype = dtype_of(params);
  if (data.X.rows() != spec.layers[0])
    throw InputError(fmt::format("{}: the data has {} features but the model takes n[0] = {}",
                                 data.origin, data.X.rows(), spec.layers[0]));
  auto plan = make_plan(spec, data.samples(), dtype, PlanKind::evaluate);
  bind_params(*plan, params);
  const runtime::Tensor x = runtime::Tensor::from_matrix(data.X, dtype);
  const runtime::Tensor y =
      runtime::Tensor::from_matrix(targets_for(spec, data.Y, data.origin), dtype);
  plan->exec->bind(plan->model.X.id, x);
  plan->exec->bind(plan->model.Y.id, y);
  plan->exec->run({.training = false, .step = 0});
  Evaluation e;
  e.cost = plan->exec->scalar(plan->model.cost.id);
  e.accuracy = accuracy(matrix_of(*plan->exec, plan->model.AL.id, dtype), data.Y);
  e.samples = data.samples();
  return e;
}

}  // namespace dagrad::train
