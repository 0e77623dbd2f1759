#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "dagrad/train/fit.hpp"
#include "dagrad/train/init.hpp"
#include "tests/train/train_test_util.hpp"

using namespace dagrad;

namespace {

models::ModelSpec spec_of(std::vector<std::int64_t> layers, models::Activation h) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.hidden = h;
  return s;
}

train::FitOptions quiet(std::int64_t iterations, double lr, train::Init init) {
  train::FitOptions o;
  o.iterations = iterations;
  o.learning_rate = lr;
  o.init = init;
  o.out = nullptr;
  return o;
}

bool same_bits(const std::vector<runtime::Tensor>& a, const std::vector<runtime::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (a[k].shape() != b[k].shape() ||
        std::memcmp(a[k].raw(), b[k].raw(), static_cast<std::size_t>(a[k].size()) * 8) != 0)
      return false;
  return true;
}

}  // namespace

TEST_CASE("the cost falls while training a small relu net", "[train]") {
  const auto data = test::tiny_moons(40);
  const auto spec = spec_of({2, 5, 1}, models::Activation::relu);
  const auto r = train::fit(spec, data, nullptr, quiet(300, 0.5, train::Init::he));
  REQUIRE(r.costs.size() == 300);
  CHECK(r.costs.back() < 0.5 * r.costs.front());
  CHECK(r.iterations == 300);
  CHECK(train::evaluate(spec, r.params, data).accuracy > 0.8);
}

TEST_CASE("zero init keeps the hidden units symmetric and warns at log 2", "[train]") {
  // Balanced labels: with W = 0 every unit computes the same thing, dW1 = 0,
  // and A2 = sigmoid(b2) stays 1/2, so J sits at log 2 (the notes' warning).
  auto data = test::tiny_moons(20);
  const auto spec = spec_of({2, 3, 1}, models::Activation::tanh);
  const auto r = train::fit(spec, data, nullptr, quiet(150, 0.5, train::Init::zeros));
  const runtime::Tensor& W1 = r.params[0];
  const runtime::Tensor& W2 = r.params[2];
  for (int j = 0; j < 2; ++j)
    for (int i = 1; i < 3; ++i) CHECK(W1.get(i * 2 + j) == W1.get(j));
  for (int i = 1; i < 3; ++i) CHECK(W2.get(i) == W2.get(0));
  CHECK(std::abs(r.costs.back() - std::log(2.0)) < 1e-6);
  CHECK(r.plateau);
}

TEST_CASE("He and Xavier weights have the variance of their formula", "[train]") {
  // (n-1) s^2 / sigma^2 is chi-square with n-1 degrees of freedom: mean n-1,
  // standard deviation sqrt(2 (n-1)); 6 standard deviations bound it.
  Graph g;
  models::ModelSpec spec = spec_of({400, 300, 1}, models::Activation::relu);
  const auto model = models::build_mlp(g, spec, 1);
  for (auto [init, var] : {std::pair{train::Init::he, 2.0 / 400}, {train::Init::xavier, 1.0 / 400}}) {
    const auto p = train::init_params(model, init, 7, DType::f64);
    const runtime::Tensor& W = p[0];
    const double n = static_cast<double>(W.size());
    double mean = 0, ss = 0;
    for (std::int64_t i = 0; i < W.size(); ++i) mean += W.get(i) / n;
    for (std::int64_t i = 0; i < W.size(); ++i) ss += (W.get(i) - mean) * (W.get(i) - mean);
    const double chi = ss / var;  // (n-1) s^2 / sigma^2
    CHECK(std::abs(chi - (n - 1)) < 6 * std::sqrt(2 * (n - 1)));
    CHECK(std::abs(mean) < 6 * std::sqrt(var / n));
    for (std::int64_t i = 0; i < p[1].size(); ++i) CHECK(p[1].get(i) == 0.0);
  }
}

TEST_CASE("early stopping keeps the parameters of the best dev check", "[train]") {
  // The dev set has the training set's labels flipped, so its cost is best
  // at the first check and rises after it.
  const auto data = test::tiny_moons(40);
  io::Dataset dev = data;
  for (double& y : dev.Y.values) y = 1.0 - y;
  const auto spec = spec_of({2, 5, 1}, models::Activation::relu);
  auto o = quiet(500, 0.5, train::Init::he);
  o.patience = 3;
  o.print_every = 5;  // a dev check every 5 iterations
  const auto r = train::fit(spec, data, &dev, o);
  CHECK(r.early_stopped);
  REQUIRE(r.dev_costs.size() == 4);
  CHECK(r.iterations == 20);
  CHECK(r.best_dev_cost == r.dev_costs[0]);
  // The same run stopped at the first check gives the same parameters.
  const auto first = train::fit(spec, data, nullptr, quiet(5, 0.5, train::Init::he));
  CHECK(same_bits(r.params, first.params));
  CHECK(train::evaluate(spec, r.params, dev).cost == Approx(r.dev_costs[0]).epsilon(1e-12));
}

TEST_CASE("a NaN cost stops training and keeps the last good parameters", "[train]") {
  const auto data = test::tiny_moons(20);
  const auto spec = spec_of({2, 5, 1}, models::Activation::relu);
  const auto r = train::fit(spec, data, nullptr, quiet(50, 1e200, train::Init::he));
  REQUIRE(r.diverged);
  CHECK(r.iterations < 50);
  CHECK_THAT(r.message, Catch::Contains(fmt::format("iteration {}", r.costs.size())));
  for (double c : r.costs) CHECK(std::isfinite(c));
  // The kept parameters give the last finite cost again.
  CHECK(train::evaluate(spec, r.params, data).cost == Approx(r.costs.back()).epsilon(1e-9));
}

TEST_CASE("two runs with the same seed give bitwise-identical parameters", "[train]") {
  const auto data = test::tiny_moons(30);
  auto spec = spec_of({2, 6, 4, 1}, models::Activation::relu);
  spec.keep_prob = {0.8};
  auto o = quiet(0, 0.05, train::Init::he);
  o.epochs = 20;
  o.batch_size = 8;
  o.optimizer.kind = train::OptimizerKind::adam;
  o.seed = 11;
  const auto a = train::fit(spec, data, nullptr, o);
  const auto b = train::fit(spec, data, nullptr, o);
  CHECK(same_bits(a.params, b.params));
  o.seed = 12;
  CHECK_FALSE(same_bits(a.params, train::fit(spec, data, nullptr, o).params));
}

TEST_CASE("mini-batch training keeps the last partial batch", "[train]") {
  const auto data = test::tiny_moons(10);
  const auto spec = spec_of({2, 3, 1}, models::Activation::relu);
  auto o = quiet(0, 0.1, train::Init::he);
  o.epochs = 4;
  o.batch_size = 4;  // 4 + 4 + 2
  const auto r = train::fit(spec, data, nullptr, o);
  CHECK(r.costs.size() == 12);
  CHECK(r.epoch_costs.size() == 4);
}
