#include "dagrad/studio/boundary.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::studio {

namespace {

constexpr std::int64_t max_units_shown = 64, max_points = 2000;

double value_at(const ops::Buffer& b, DType dtype, std::int64_t k) {
  return dtype == DType::f32 ? double(b.as<const float>()[k]) : b.as<const double>()[k];
}

void copy_points(const io::Dataset& d, std::vector<double>& out) {
  const std::int64_t every = std::max<std::int64_t>(1, (d.samples() + max_points - 1) / max_points);
  for (std::int64_t i = 0; i < d.samples(); i += every) {
    out.push_back(d.X(0, i));
    out.push_back(d.X(1, i));
    out.push_back(d.Y.rows() > 0 ? d.Y(0, i) : 0.0);
  }
}

}  // namespace

BoundaryPlan::BoundaryPlan(models::Model& model, const io::Dataset& data) : model_(model) {
  if (data.X.rows() != 2)
    throw InputError(fmt::format("boundary: the data has {} features; the plane needs 2", data.X.rows()));
  for (int f = 0; f < 2; ++f) {
    lo_[f] = hi_[f] = data.X(f, 0);
    for (std::int64_t i = 0; i < data.samples(); ++i) {
      lo_[f] = std::min(lo_[f], data.X(f, i));
      hi_[f] = std::max(hi_[f], data.X(f, i));
    }
    const double pad = 0.1 * std::max(hi_[f] - lo_[f], 1e-6);
    lo_[f] -= pad;
    hi_[f] += pad;
  }
  // The output and every hidden activation A[l] (before dropout), outputs
  // of one plan.
  const Graph& g = model.graph();
  std::vector<NodeId> outs{model.output().id};
  for (int l = 1; l < 64; ++l) {
    auto a = g.find(fmt::format("A{}", l));
    if (!a) break;
    if (*a == model.output().id || g.node(*a).shape.cols != m_dim) continue;
    hidden_.emplace_back(l, *a);
    outs.push_back(*a);
  }
  exec_ = std::make_unique<runtime::Executor>(g, outs);
  for (NodeId id : exec_->schedule())
    if (g.node(id).op == OpKind::param) exec_->bind(id, std::as_const(model.value(g.node(id).name)));
}

// The grid's n x n points, row by row from the top (y1) down, normalized as
// the model's training data was.
void BoundaryPlan::run_grid(std::int64_t n) {
  io::Matrix X(Shape{2, n * n});
  for (std::int64_t y = 0; y < n; ++y)
    for (std::int64_t x = 0; x < n; ++x) {
      X(0, y * n + x) = lo_[0] + (hi_[0] - lo_[0]) * (double(x) + 0.5) / double(n);
      X(1, y * n + x) = hi_[1] - (hi_[1] - lo_[1]) * (double(y) + 0.5) / double(n);
    }
  if (model_.normalization) model_.normalization->apply(X);
  grid_ = runtime::Tensor::from_matrix(X, model_.dtype());
  exec_->bind(model_.features().id, std::as_const(grid_));
  exec_->run({.training = false, .step = 0});
}

BoundaryData BoundaryPlan::compute(std::int64_t s, std::int64_t s2, const io::Dataset& train,
                                   const io::Dataset& dev) {
  BoundaryData b;
  b.size = s;
  b.units_size = s2;
  b.iteration = model_.steps;
  b.x[0] = lo_[0];
  b.x[1] = hi_[0];
  b.y[0] = lo_[1];
  b.y[1] = hi_[1];
  const models::Task task = model_.task();
  b.output = task == models::Task::categorical ? "class" : task == models::Task::binary ? "probability" : "value";
  const DType dt = model_.dtype();
  run_grid(s);
  const ops::Buffer out = exec_->value(model_.output().id);
  const std::int64_t K = out.shape.rows, cols = out.shape.cols;
  b.grid.reserve(static_cast<std::size_t>(s * s));
  for (std::int64_t c = 0; c < s * s; ++c) {
    if (K == 1) {
      b.grid.push_back(value_at(out, dt, c));
      continue;
    }
    std::int64_t best = 0;  // softmax: the class of the largest output
    for (std::int64_t k = 1; k < K; ++k)
      if (value_at(out, dt, k * cols + c) > value_at(out, dt, best * cols + c)) best = k;
    b.grid.push_back(double(best));
  }
  if (!hidden_.empty()) {
    run_grid(s2);
    for (const auto& [l, id] : hidden_) {
      const ops::Buffer a = exec_->value(id);
      for (std::int64_t u = 0; u < a.shape.rows && std::ssize(b.unit_ids) < max_units_shown; ++u) {
        b.unit_ids.emplace_back(l, static_cast<int>(u));
        for (std::int64_t c = 0; c < s2 * s2; ++c) b.units.push_back(value_at(a, dt, u * a.shape.cols + c));
      }
    }
  }
  copy_points(train, b.points);
  copy_points(dev, b.dev_points);
  return b;
}

namespace {

// A number to 4 significant digits, never NaN or Inf (JSON has neither: 0).
void put(fmt::memory_buffer& o, double v) {
  if (!std::isfinite(v)) v = 0;
  fmt::format_to(std::back_inserter(o), "{:.4g}", v);
}

void put_list(fmt::memory_buffer& o, const double* v, std::size_t n) {
  o.push_back('[');
  for (std::size_t k = 0; k < n; ++k) {
    if (k) o.push_back(',');
    put(o, v[k]);
  }
  o.push_back(']');
}

void put_points(fmt::memory_buffer& o, const std::vector<double>& p) {
  o.push_back('[');
  for (std::size_t k = 0; k + 2 < p.size(); k += 3) {
    if (k) o.push_back(',');
    fmt::format_to(std::back_inserter(o), "[{},{},{}]", p[k], p[k + 1], p[k + 2]);
  }
  o.push_back(']');
}

}  // namespace

std::string to_json(const BoundaryData& b) {
  fmt::memory_buffer o;
  fmt::format_to(std::back_inserter(o), R"({{"size":{},"units_size":{},"iteration":{},"x":[{},{}],"y":[{},{}],"output":"{}","grid":)",
                 b.size, b.units_size, b.iteration, b.x[0], b.x[1], b.y[0], b.y[1], b.output);
  put_list(o, b.grid.data(), b.grid.size());
  fmt::format_to(std::back_inserter(o), R"(,"units":[)");
  const auto per = static_cast<std::size_t>(b.units_size * b.units_size);
  for (std::size_t k = 0; k < b.unit_ids.size(); ++k) {
    fmt::format_to(std::back_inserter(o), "{}[{},{},", k ? "," : "", b.unit_ids[k].first, b.unit_ids[k].second);
    put_list(o, b.units.data() + k * per, per);
    o.push_back(']');
  }
  fmt::format_to(std::back_inserter(o), R"(],"points":)");
  put_points(o, b.points);
  fmt::format_to(std::back_inserter(o), R"(,"dev_points":)");
  put_points(o, b.dev_points);
  o.push_back('}');
  return fmt::to_string(o);
}

}  // namespace dagrad::studio
