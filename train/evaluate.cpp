// Inference: Predictor, predict, evaluate and the metrics (declared in
// train/fit.hpp).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/train/fit.hpp"

namespace dagrad::train {

namespace {

// Samples per run when evaluating a data set: all of them, up to this.
constexpr std::int64_t eval_chunk = 16384;

// Columns [begin, begin + value's columns) of `out` from an output's value.
void put_columns(const ops::Buffer& b, DType dtype, std::int64_t row0, std::int64_t col0,
                 io::Matrix& out) {
  for (std::int64_t r = 0; r < b.shape.rows; ++r)
    for (std::int64_t c = 0; c < b.shape.cols; ++c) {
      const std::int64_t i = r * b.shape.cols + c;
      out(row0 + r, col0 + c) = dtype == DType::f32 ? double(b.as<const float>()[i])
                                                    : b.as<const double>()[i];
    }
}

std::int64_t output_rows(const models::Model& model) {
  std::int64_t rows = 0;
  for (Expr o : model.outputs()) {
    if (o.shape().cols != m_dim)
      throw GraphError(fmt::format("model: output {} {} has no sample columns (m)", o.name(),
                                   to_string(o.shape())));
    rows += o.shape().rows;
  }
  return rows;
}

// Runs `session` over the data in chunks of `chunk` samples; after each run,
// `each(begin, end)` reads what it needs.
template <class F>
void in_chunks(Feeder& feeder, Session& session, std::int64_t chunk, F each) {
  for (std::int64_t b = 0; b < feeder.samples(); b += chunk) {
    const std::int64_t e = std::min(feeder.samples(), b + chunk);
    feeder.feed_range(b, e);
    session.run({.training = false, .step = 0});
    each(b, e);
  }
}

void collect_outputs(const models::Model& model, const Session& session, std::int64_t col0,
                     io::Matrix& out) {
  std::int64_t row = 0;
  for (Expr o : model.outputs()) {
    put_columns(session.value(o), model.dtype(), row, col0, out);
    row += o.shape().rows;
  }
}

}  // namespace

Predictor::Predictor(models::Model& model, std::int64_t capacity)
    : model_(model), capacity_(capacity), session_(model, Use::predict, capacity) {
  if (capacity < 1) throw InputError(fmt::format("predict: capacity {} must be >= 1", capacity));
}

io::Matrix Predictor::predict(const io::Matrix& X) {
  io::Dataset d;
  d.X = X;
  d.origin = "predict";
  Feeder feeder(session_, sample_data(model_, d, false), capacity_);
  io::Matrix out(Shape{output_rows(model_), X.cols()});
  in_chunks(feeder, session_, capacity_,
            [&](std::int64_t b, std::int64_t) { collect_outputs(model_, session_, b, out); });
  return out;
}

io::Matrix predict(models::Model& model, const io::Matrix& X) {
  Predictor p(model, std::clamp<std::int64_t>(X.cols(), 1, eval_chunk));
  return p.predict(X);
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

double r_squared(const io::Matrix& A, const io::Matrix& Y) {
  if (A.shape != Y.shape || Y.values.empty())
    throw InputError(fmt::format("R^2: predictions {} for labels {}", to_string(A.shape),
                                 to_string(Y.shape)));
  double mean = 0;
  for (double y : Y.values) mean += y;
  mean /= static_cast<double>(Y.values.size());
  double res = 0, tot = 0;
  for (std::size_t i = 0; i < Y.values.size(); ++i) {
    res += (Y.values[i] - A.values[i]) * (Y.values[i] - A.values[i]);
    tot += (Y.values[i] - mean) * (Y.values[i] - mean);
  }
  return tot > 0 ? 1.0 - res / tot : (res == 0 ? 1.0 : 0.0);
}

Evaluation evaluate(models::Model& model, const io::Dataset& data) {
  if (data.samples() < 1) throw InputError(fmt::format("{}: no samples to evaluate", data.origin));
  const std::int64_t chunk = std::min(data.samples(), eval_chunk);
  Session session(model, Use::evaluate, chunk);
  Feeder feeder(session, sample_data(model, data, true), chunk);
  io::Matrix out(Shape{output_rows(model), data.samples()});
  double weighted = 0;  // the cost is a mean over each chunk's samples
  in_chunks(feeder, session, chunk, [&](std::int64_t b, std::int64_t e) {
    weighted += session.scalar(model.eval_cost()) * static_cast<double>(e - b);
    collect_outputs(model, session, b, out);
  });
  Evaluation ev;
  ev.cost = weighted / static_cast<double>(data.samples());
  ev.samples = data.samples();
  ev.task = model.task();
  const Expr A = model.output();
  io::Matrix first(Shape{A.shape().rows, data.samples()});
  std::copy_n(out.values.begin(), first.values.size(), first.values.begin());
  if (ev.task == models::Task::regression) {
    const Expr Y = model.labels();
    if (Y.valid()) ev.r2 = r_squared(first, targets_for(Y, data.Y, data.origin));
  } else {
    ev.accuracy = accuracy(first, data.Y);
  }
  return ev;
}

}  // namespace dagrad::train
