// A K-heavy sample input stored by sample (passes/sample_layout.hpp): the
// session's graph takes X as (m x n) and turns each product's transpose
// flag, and the Feeder keeps the data sample by sample. Steps, mini-batches
// and ranges must give what the declared layout gives, which the rest of the
// suite checks against the notes' formulas and PyTorch.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <vector>

#include "dagrad/models/mlp.hpp"
#include "dagrad/ops/transpose.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/passes/sample_layout.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/train/session.hpp"

using namespace dagrad;

namespace {

// m samples of n features and 0/1 labels, from fixed formulas.
io::Dataset wide_data(std::int64_t n, std::int64_t m) {
  io::Dataset d{io::Matrix({n, m}), io::Matrix({1, m}), "wide"};
  for (std::int64_t i = 0; i < m; ++i) {
    double s = 0;
    for (std::int64_t k = 0; k < n; ++k) {
      d.X(k, i) = std::sin(0.37 * double(i + 1) + 0.011 * double(k * (i % 7 + 1)));
      if (k < 64) s += d.X(k, i);
    }
    d.Y(0, i) = s > 0 ? 1.0 : 0.0;
  }
  return d;
}

models::Model wide_model(std::vector<std::int64_t> layers, DType dtype) {
  models::ModelSpec spec;
  spec.layers = std::move(layers);
  spec.seed = 3;
  models::Model model = models::build_mlp(spec, dtype);
  model.init_params(spec.seed);
  model.minimize({optim::OptimizerKind::gd, 0.05});
  return model;
}

struct Run {
  bool by_sample = false;
  std::vector<double> J;
  std::vector<std::vector<double>> params;
};

// Three full-batch steps, two mini-batches (one short) and a range of the
// samples, each followed by J; then the parameters.
Run run(const io::Dataset& data, std::vector<std::int64_t> layers, DType dtype, std::int64_t capacity,
        bool store_by_sample) {
  models::Model model = wide_model(std::move(layers), dtype);
  passes::PassOptions o;
  o.store_by_sample = store_by_sample;
  train::Session s(model, train::Use::train, capacity, o);
  train::Feeder feeder(s, train::sample_data(model, data, true), capacity);
  Run r;
  r.by_sample = s.by_sample(model.features());
  std::uint64_t step = 0;
  auto go = [&] {
    s.run({.training = true, .step = step++});
    r.J.push_back(s.scalar(model.cost()));
  };
  const std::int64_t m = data.X.cols();
  if (capacity >= m) {
    feeder.feed_range(0, m);
    for (int k = 0; k < 3; ++k) go();
  }
  std::vector<std::int64_t> idx(static_cast<std::size_t>(std::min(capacity, m)));
  for (std::size_t j = 0; j < idx.size(); ++j) idx[j] = (static_cast<std::int64_t>(j) * 37 + 11) % m;
  feeder.feed(idx);
  go();
  feeder.feed(std::span(idx).first(idx.size() / 3));
  go();
  feeder.feed_range(m / 5, std::min(m, m / 5 + capacity) - 3);
  go();
  for (Expr p : model.params()) r.params.push_back(model.value(p.name()).to_matrix().values);
  return r;
}

void require_close(const Run& a, const Run& b, double tol) {
  REQUIRE(a.J.size() == b.J.size());
  for (std::size_t k = 0; k < a.J.size(); ++k) {
    INFO("J " << k);
    CHECK(std::abs(a.J[k] - b.J[k]) <= tol * std::abs(b.J[k]));
  }
  REQUIRE(a.params.size() == b.params.size());
  for (std::size_t p = 0; p < a.params.size(); ++p)
    for (std::size_t i = 0; i < a.params[p].size(); ++i) {
      INFO("param " << p << " element " << i);
      REQUIRE(std::abs(a.params[p][i] - b.params[p][i]) <= tol * (1.0 + std::abs(b.params[p][i])));
    }
}

}  // namespace

TEST_CASE("a K-heavy input stored by sample trains as the declared layout does", "[passes][sample_layout]") {
  const std::int64_t n = passes::by_sample_min_features, m = 150;
  const io::Dataset data = wide_data(n, m);
  for (DType dtype : {DType::f64, DType::f32}) {
    INFO(dtype_name(dtype));
    const Run stored = run(data, {n, 6, 3, 1}, dtype, m, true);
    const Run declared = run(data, {n, 6, 3, 1}, dtype, m, false);
    CHECK(stored.by_sample);
    CHECK_FALSE(declared.by_sample);
    require_close(stored, declared, dtype == DType::f64 ? 1e-12 : 2e-5);
    // Nothing is a no-op: the steps moved J.
    CHECK(stored.J.front() != stored.J[2]);
  }
}

TEST_CASE("the compiled graph takes X as (m x n) and turns the products' flags", "[passes][sample_layout]") {
  const std::int64_t n = passes::by_sample_min_features;
  models::Model model = wide_model({n, 4, 1}, DType::f64);
  train::Session s(model, train::Use::train, passes::by_sample_min_samples, {});
  const Node& x = s.graph().node(s.map(model.features()));
  CHECK(x.op == OpKind::input);
  CHECK(x.shape == Shape{m_dim, n});
  // Z1 = W1 Xs^T and dW1 = dZ1 Xs: every reader is a GEMM whose second
  // operand is Xs, transposed in the forward product only.
  int forward = 0, backward = 0;
  for (NodeId id = 0; id < s.graph().size(); ++id) {
    const Node& r = s.graph().node(id);
    for (std::size_t k = 0; k < r.inputs.size(); ++k) {
      if (r.inputs[k] != s.map(model.features())) continue;
      REQUIRE((r.op == OpKind::matmul || r.op == OpKind::matmul_bias));
      REQUIRE(k == 1);
      (r.attr<MatmulAttrs>().trans_b ? forward : backward) += 1;
      CHECK(r.attr<MatmulAttrs>().trans_b == (r.shape.cols == m_dim));
    }
  }
  CHECK(forward == 1);
  CHECK(backward == 1);
}

TEST_CASE("inputs stay as declared where the rule does not hold", "[passes][sample_layout]") {
  const std::int64_t n = passes::by_sample_min_features;
  auto stored = [](std::vector<std::int64_t> layers, std::int64_t capacity) {
    models::Model model = wide_model(std::move(layers), DType::f32);
    train::Session s(model, train::Use::train, capacity, {});
    return s.by_sample(model.features());
  };
  CHECK(stored({n, 4, 1}, passes::by_sample_min_samples));
  CHECK_FALSE(stored({n, 4, 1}, passes::by_sample_min_samples - 1));       // a small batch
  CHECK_FALSE(stored({n - 1, 4, 1}, passes::by_sample_min_samples));       // not K-heavy
  CHECK_FALSE(stored({n, passes::by_sample_max_units + 1, 1}, 256));       // too many units
  // The unfused reference graph keeps every input as declared.
  models::Model model = wide_model({n, 4, 1}, DType::f32);
  train::Session none(model, train::Use::train, 256, passes::PassOptions::none());
  CHECK_FALSE(none.by_sample(model.features()));
}

TEST_CASE("transpose_matrix and gather_rows move whole samples", "[train][batches]") {
  const std::int64_t rows = 45, m = 70;  // not multiples of the 32 x 32 blocks
  std::vector<double> src(static_cast<std::size_t>(rows * m)), by_sample(src.size());
  std::iota(src.begin(), src.end(), 0.0);
  ops::transpose_matrix(src.data(), rows, m, by_sample.data());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t s = 0; s < m; ++s) REQUIRE(by_sample[std::size_t(s * rows + r)] == double(r * m + s));
  const std::vector<std::int64_t> idx{69, 0, 33, 33};
  std::vector<double> batch(idx.size() * rows);
  train::gather_rows(by_sample.data(), rows, idx, batch.data());
  for (std::size_t j = 0; j < idx.size(); ++j)
    for (std::int64_t r = 0; r < rows; ++r) REQUIRE(batch[j * rows + std::size_t(r)] == double(r * m + idx[j]));
}
