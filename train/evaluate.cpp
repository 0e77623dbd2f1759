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

Predictor::Predictor(const models::Model& model, std::int64_t capacity)
    : plan_(std::make_unique<serve::InferencePlan>(model)), ctx_(*plan_), capacity_(capacity) {
  if (capacity < 1) throw InputError(fmt::format("predict: capacity {} must be >= 1", capacity));
}

namespace {

// Columns [b, e) of X into t (n_x x (e - b)), and back from y (rows x (e - b)).
template <class T>
void predict_chunks(const serve::InferencePlan& plan, serve::Context& ctx, std::int64_t capacity,
                    const io::Matrix& X, runtime::Tensor& xt, runtime::Tensor& yt, io::Matrix& out) {
  const std::int64_t n = X.rows(), k = out.rows(), m = X.cols();
  for (std::int64_t b = 0; b < m; b += capacity) {
    const std::int64_t w = std::min(capacity, m - b);
    T* x = xt.data<T>();
    for (std::int64_t r = 0; r < n; ++r)
      for (std::int64_t c = 0; c < w; ++c) x[r * w + c] = static_cast<T>(X(r, b + c));
    T* y = yt.data<T>();
    plan.predict(ctx, std::span<const T>(x, std::size_t(n * w)), std::span<T>(y, std::size_t(k * w)),
                 serve::Layout::columns);
    for (std::int64_t r = 0; r < k; ++r)
      for (std::int64_t c = 0; c < w; ++c) out(r, b + c) = double(y[r * w + c]);
  }
}

}  // namespace

io::Matrix Predictor::predict(const io::Matrix& X) {
  if (X.rows() != plan_->inputs())
    throw InputError(fmt::format("predict: the data has {} features but the model takes {} (n[0] = {})",
                                 X.rows(), plan_->inputs(), plan_->inputs()));
  io::Matrix out(Shape{plan_->outputs(), X.cols()});
  if (X.cols() == 0) return out;
  const std::int64_t chunk = std::min(capacity_, X.cols());
  if (x_.size() < X.rows() * chunk) {
    x_ = runtime::Tensor(plan_->dtype(), Shape{X.rows(), chunk});
    y_ = runtime::Tensor(plan_->dtype(), Shape{plan_->outputs(), chunk});
  }
  if (plan_->dtype() == DType::f32) predict_chunks<float>(*plan_, ctx_, chunk, X, x_, y_, out);
  else predict_chunks<double>(*plan_, ctx_, chunk, X, x_, y_, out);
  return out;
}

void Predictor::predict(std::span<const float> x, std::span<float> y, serve::Layout layout) {
  plan_->predict(ctx_, x, y, layout);
}
void Predictor::predict(std::span<const double> x, std::span<double> y, serve::Layout layout) {
  plan_->predict(ctx_, x, y, layout);
}

io::Matrix predict(const models::Model& model, const io::Matrix& X) {
  Predictor p(model, std::clamp<std::int64_t>(X.cols(), 1, eval_chunk));
  return p.predict(X);
}

namespace {

// How many columns of AL predict Y's label (accuracy's numerator).
std::int64_t correct(const io::Matrix& AL, const io::Matrix& Y) {
  if (AL.cols() != Y.cols())
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
  return right;
}

}  // namespace

double accuracy(const io::Matrix& AL, const io::Matrix& Y) {
  if (AL.cols() != Y.cols() || AL.cols() == 0)
    throw InputError(fmt::format("accuracy: {} predictions for {} labels", AL.cols(), Y.cols()));
  return static_cast<double>(correct(AL, Y)) / static_cast<double>(AL.cols());
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

namespace {

// The first output's rows of the stacked outputs.
io::Matrix first_output(const models::Model& model, const io::Matrix& out) {
  io::Matrix first(Shape{model.output().shape().rows, out.cols()});
  std::copy_n(out.values.begin(), first.values.size(), first.values.begin());
  return first;
}

// evaluate over the processes of `comm`, each holding `part` of a set of
// `total` samples. They evaluate in rounds of at most eval_chunk samples
// each, every process in every round (with none of its own once its part is
// done), and the cost is the rounds' costs weighted by their sample counts,
// as one process weighs its chunks.
Evaluation evaluate_parts(models::Model& model, const io::Dataset& part, std::int64_t total,
                          dist::Comm& comm) {
  std::vector<double> held(static_cast<std::size_t>(comm.size()), 0.0);
  held[static_cast<std::size_t>(comm.rank())] = static_cast<double>(part.samples());
  comm.sum(held);
  const auto most = static_cast<std::int64_t>(*std::max_element(held.begin(), held.end()));
  const std::int64_t chunk = std::clamp<std::int64_t>(most, 1, eval_chunk);
  const std::int64_t capacity = std::clamp<std::int64_t>(part.samples(), 1, chunk);
  const dist::DataParallelOptions one_bucket;
  Session session(model, Use::evaluate, capacity, {}, &one_bucket);
  Feeder feeder(session, sample_data(model, part, true), capacity);
  io::Matrix out(Shape{output_rows(model), part.samples()});
  double weighted = 0;
  for (std::int64_t b = 0; b < std::max<std::int64_t>(most, 1); b += chunk) {
    std::int64_t batch = 0;  // this round's samples on all processes
    for (double h : held) batch += std::clamp<std::int64_t>(static_cast<std::int64_t>(h) - b, 0, chunk);
    const std::int64_t lo = std::min(b, part.samples()), hi = std::min(b + chunk, part.samples());
    feeder.feed_range(lo, hi);
    session.run({.training = false, .step = 0, .batch = batch, .collectives = &comm});
    weighted += session.scalar(model.eval_cost()) * static_cast<double>(batch);
    if (hi > lo) collect_outputs(model, session, lo, out);
  }
  Evaluation ev;
  ev.cost = weighted / static_cast<double>(total);
  ev.samples = total;
  ev.task = model.task();
  const io::Matrix A = first_output(model, out);
  if (ev.task == models::Task::regression) {
    const Expr Y = model.labels();
    if (!Y.valid()) return ev;
    const io::Matrix T = targets_for(model, part.Y, part.origin);
    // R^2 = 1 - sum (y - a)^2 / sum (y - mean y)^2 over every element.
    double sums[3] = {0, 0, 0};
    for (double y : T.values) sums[0] += y;
    comm.sum(std::span(sums, 1));
    const double mean = sums[0] / static_cast<double>(T.rows() * total);
    for (std::size_t i = 0; i < T.values.size(); ++i) {
      sums[1] += (T.values[i] - A.values[i]) * (T.values[i] - A.values[i]);
      sums[2] += (T.values[i] - mean) * (T.values[i] - mean);
    }
    comm.sum(std::span(sums + 1, 2));
    ev.r2 = sums[2] > 0 ? 1.0 - sums[1] / sums[2] : (sums[1] == 0 ? 1.0 : 0.0);
    return ev;
  }
  double right = static_cast<double>(correct(A, part.Y));
  comm.sum(std::span(&right, 1));
  ev.accuracy = right / static_cast<double>(total);
  return ev;
}

}  // namespace

Evaluation evaluate(models::Model& model, const io::Dataset& data, dist::Comm* comm_in) {
  dist::Comm& comm = comm_in ? *comm_in : dist::Comm::self();
  if (data.total_samples() < 1) throw InputError(fmt::format("{}: no samples to evaluate", data.origin));
  if (!comm.distributed() && data.samples() != data.total_samples())
    throw InputError(fmt::format("{}: holds {} of the set's {} samples (a shard, io::LoadOptions::shard), but "
                                 "this evaluation is on one process; give evaluate the processes "
                                 "(&dist::Comm::world() under mpirun), else load the whole set",
                                 data.origin, data.samples(), data.total_samples()));
  if (comm.distributed())
    return evaluate_parts(model, data.is_shard() ? data : io::shard_of(data, comm.rank(), comm.size()),
                          data.total_samples(), comm);
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
  const io::Matrix first = first_output(model, out);
  if (ev.task == models::Task::regression) {
    const Expr Y = model.labels();
    if (Y.valid()) ev.r2 = r_squared(first, targets_for(model, data.Y, data.origin));
  } else {
    ev.accuracy = accuracy(first, data.Y);
  }
  return ev;
}

}  // namespace dagrad::train
