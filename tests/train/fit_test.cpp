#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "dagrad/ops/dsl.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/models/init.hpp"
#include "tests/train/train_test_util.hpp"

using namespace dagrad;

namespace {

models::Model mlp(std::vector<std::int64_t> layers, models::Activation h, models::Init init,
                  std::uint64_t seed = 1) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.hidden = h;
  models::Model m = models::build_mlp(s, DType::f64);
  m.set_init(init);
  m.seed = seed;
  return m;
}

train::FitOptions quiet(std::int64_t iterations, double lr) {
  train::FitOptions o;
  o.iterations = iterations;
  o.optimizer.learning_rate = lr;
  o.out = nullptr;
  return o;
}

std::vector<std::vector<double>> params_of(const models::Model& m) {
  std::vector<std::vector<double>> out;
  for (Expr p : m.params()) out.push_back(m.value(p.name()).to_matrix().values);
  return out;
}

}  // namespace

TEST_CASE("the cost falls while training a small relu net", "[train]") {
  const auto data = test::tiny_moons(40);
  auto m = mlp({2, 5, 1}, models::Activation::relu, models::Init::he);
  const auto r = train::fit(m, data, nullptr, quiet(300, 0.5));
  REQUIRE(r.costs.size() == 300);
  CHECK(r.costs.back() < 0.5 * r.costs.front());
  CHECK(r.iterations == 300);
  CHECK(m.steps == 300);
  CHECK(train::evaluate(m, data).accuracy > 0.8);
}

TEST_CASE("zero init keeps the hidden units symmetric and warns at log 2", "[train]") {
  // Balanced labels: with W = 0 every unit computes the same thing, dW1 = 0,
  // and A2 = sigmoid(b2) stays 1/2, so J sits at log 2 (the notes' warning).
  auto data = test::tiny_moons(20);
  auto m = mlp({2, 3, 1}, models::Activation::tanh, models::Init::zeros);
  const auto r = train::fit(m, data, nullptr, quiet(150, 0.5));
  const runtime::Tensor& W1 = m.value("W1");
  const runtime::Tensor& W2 = m.value("W2");
  for (int j = 0; j < 2; ++j)
    for (int i = 1; i < 3; ++i) CHECK(W1.get(i * 2 + j) == W1.get(j));
  for (int i = 1; i < 3; ++i) CHECK(W2.get(i) == W2.get(0));
  CHECK(std::abs(r.costs.back() - std::log(2.0)) < 1e-6);
  CHECK(r.plateau);
}

TEST_CASE("He and Xavier weights have the variance of their formula", "[train]") {
  // (n-1) s^2 / sigma^2 is chi-square with n-1 degrees of freedom: mean n-1,
  // standard deviation sqrt(2 (n-1)); 6 standard deviations bound it.
  for (auto [init, var] : {std::pair{models::Init::he, 2.0 / 400}, {models::Init::xavier, 1.0 / 400}}) {
    auto m = mlp({400, 300, 1}, models::Activation::relu, init, 7);
    m.init_params(m.seed);
    const runtime::Tensor& W = m.value("W1");
    const double n = static_cast<double>(W.size());
    double mean = 0, ss = 0;
    for (std::int64_t i = 0; i < W.size(); ++i) mean += W.get(i) / n;
    for (std::int64_t i = 0; i < W.size(); ++i) ss += (W.get(i) - mean) * (W.get(i) - mean);
    const double chi = ss / var;  // (n-1) s^2 / sigma^2
    CHECK(std::abs(chi - (n - 1)) < 6 * std::sqrt(2 * (n - 1)));
    CHECK(std::abs(mean) < 6 * std::sqrt(var / n));
    const runtime::Tensor& b = m.value("b1");
    for (std::int64_t i = 0; i < b.size(); ++i) CHECK(b.get(i) == 0.0);
  }
}

TEST_CASE("init finds weights by their use in a matrix product, biases by the rest", "[train]") {
  // A (1 x 1) weight is still a weight, and A W (W on the right) has fan-in
  // W's rows; an (n x 1) bias added to W X starts at zero.
  models::Model m;
  Graph& g = m.graph();
  Expr X = g.input("X", {1, m_dim}), Y = g.input("Y", {1, m_dim});
  Expr W1 = g.param("W1", {5, 1}), b1 = g.param("b1", {5, 1});
  Expr V = g.param("V", {3, 5});
  Expr A = relu(W1 * X + b1);
  Expr J = binary_cross_entropy(sigmoid(sum(transpose(matmul(transpose(A), transpose(V))), 0)), Y)
               .named("J");
  m.set_cost(J);
  CHECK(models::fan_in(g, W1.id) == 1);
  CHECK(models::fan_in(g, b1.id) == std::nullopt);
  CHECK(models::fan_in(g, V.id) == 5);  // A^T V^T: V is on the right, transposed
  m.set_init("V", models::Init::zeros);
  m.init_params(4);
  CHECK(m.value("b1").to_matrix().values == std::vector<double>(5, 0.0));
  CHECK(m.value("V").to_matrix().values == std::vector<double>(15, 0.0));
  double sq = 0;
  for (double w : m.value("W1").to_matrix().values) sq += w * w;
  CHECK(sq > 0);  // He: randn * sqrt(2 / 1)
}

TEST_CASE("early stopping keeps the parameters of the best dev check", "[train]") {
  // The dev set has the training set's labels flipped, so its cost is best
  // at the first check and rises after it.
  const auto data = test::tiny_moons(40);
  io::Dataset dev = data;
  for (double& y : dev.Y.values) y = 1.0 - y;
  auto m = mlp({2, 5, 1}, models::Activation::relu, models::Init::he);
  auto o = quiet(500, 0.5);
  o.patience = 3;
  o.print_every = 5;  // a dev check every 5 iterations
  const auto r = train::fit(m, data, &dev, o);
  CHECK(r.early_stopped);
  REQUIRE(r.dev_costs.size() == 4);
  CHECK(r.iterations == 20);
  CHECK(r.best_dev_cost == r.dev_costs[0]);
  // The same run stopped at the first check gives the same parameters.
  auto first = mlp({2, 5, 1}, models::Activation::relu, models::Init::he);
  train::fit(first, data, nullptr, quiet(5, 0.5));
  CHECK(params_of(m) == params_of(first));
  CHECK(train::evaluate(m, dev).cost == Approx(r.dev_costs[0]).epsilon(1e-12));
}

TEST_CASE("a NaN cost stops training and keeps the last good parameters", "[train]") {
  const auto data = test::tiny_moons(20);
  auto m = mlp({2, 5, 1}, models::Activation::relu, models::Init::he);
  const auto r = train::fit(m, data, nullptr, quiet(50, 1e200));
  REQUIRE(r.diverged);
  CHECK(r.iterations < 50);
  CHECK_THAT(r.message, Catch::Contains(fmt::format("iteration {}", r.costs.size())));
  for (double c : r.costs) CHECK(std::isfinite(c));
  // The kept parameters give the last finite cost again.
  CHECK(train::evaluate(m, data).cost == Approx(r.costs.back()).epsilon(1e-9));
}

TEST_CASE("two runs with the same seed give bitwise-identical parameters", "[train]") {
  const auto data = test::tiny_moons(30);
  auto run = [&](std::uint64_t seed) {
    models::ModelSpec s;
    s.layers = {2, 6, 4, 1};
    s.keep_prob = {0.8};
    auto m = models::build_mlp(s, DType::f64);
    m.seed = seed;
    auto o = quiet(0, 0.05);
    o.epochs = 20;
    o.batch_size = 8;
    o.optimizer.kind = train::OptimizerKind::adam;
    train::fit(m, data, nullptr, o);
    return params_of(m);
  };
  CHECK(run(11) == run(11));
  CHECK(run(11) != run(12));
}

TEST_CASE("mini-batch training keeps the last partial batch on one plan", "[train]") {
  const auto data = test::tiny_moons(10);
  auto m = mlp({2, 3, 1}, models::Activation::relu, models::Init::he);
  auto o = quiet(0, 0.1);
  o.epochs = 4;
  o.batch_size = 4;  // 4 + 4 + 2
  const auto r = train::fit(m, data, nullptr, o);
  CHECK(r.costs.size() == 12);
  CHECK(r.epoch_costs.size() == 4);
  CHECK(m.epochs == 4);
  CHECK(m.steps == 12);
}

TEST_CASE("a DSL model with a residual connection trains through fit alone", "[train]") {
  // A[2] = relu(W[2] A[1] + b[2]) + A[1]: no loop, no bind, no init by hand.
  models::Model model;
  Graph& g = model.graph();
  Expr X = g.input("X", {2, m_dim}), Y = g.input("Y", {1, m_dim});
  Expr W1 = g.param("W1", {6, 2}), b1 = g.param("b1", {6, 1});
  Expr W2 = g.param("W2", {6, 6}), b2 = g.param("b2", {6, 1});
  Expr W3 = g.param("W3", {1, 6}), b3 = g.param("b3", {1, 1});
  Expr A1 = relu(W1 * X + b1).named("A1");
  Expr A2 = (relu(W2 * A1 + b2) + A1).named("A2");
  Expr A3 = sigmoid(W3 * A2 + b3).named("A3");
  model.set_cost(binary_cross_entropy(A3, Y).named("J"));
  model.set_output(A3);
  const auto data = test::tiny_moons(60);
  auto o = quiet(0, 0.01);
  o.epochs = 150;
  o.batch_size = 16;
  o.optimizer.kind = train::OptimizerKind::adam;
  const auto r = train::fit(model, data, nullptr, o);
  CHECK(r.epoch_costs.back() < 0.5 * r.epoch_costs.front());
  CHECK(train::evaluate(model, data).accuracy > 0.85);
  CHECK(model.params().size() == 6);
  CHECK(model.has_value("v_dW2"));  // Adam's state lives in the model
}

TEST_CASE("a model trained on batches of 64 predicts 7 samples from the same plan", "[train]") {
  const auto data = test::tiny_moons(200);
  auto m = mlp({2, 8, 1}, models::Activation::tanh, models::Init::xavier);
  auto o = quiet(0, 0.3);
  o.epochs = 5;
  o.batch_size = 64;
  train::fit(m, data, nullptr, o);
  train::Predictor p(m, 64);
  io::Matrix X({2, 7});
  for (std::int64_t j = 0; j < 7; ++j) {
    X(0, j) = data.X(0, 3 * j);
    X(1, j) = data.X(1, 3 * j);
  }
  const io::Matrix P = p.predict(X);
  CHECK(p.context().capacity() == 7);  // its buffers hold the samples of the largest call
  // The notes' forward pass by hand: A2 = sigmoid(W2 tanh(W1 X + b1) + b2).
  const io::Matrix W1 = m.value("W1").to_matrix(), b1 = m.value("b1").to_matrix();
  const io::Matrix W2 = m.value("W2").to_matrix(), b2 = m.value("b2").to_matrix();
  REQUIRE(P.shape == Shape{1, 7});
  for (std::int64_t j = 0; j < 7; ++j) {
    double z2 = b2(0, 0);
    for (std::int64_t h = 0; h < 8; ++h)
      z2 += W2(0, h) * std::tanh(W1(h, 0) * X(0, j) + W1(h, 1) * X(1, j) + b1(h, 0));
    CHECK(P(0, j) == Approx(1.0 / (1.0 + std::exp(-z2))).epsilon(1e-12));
  }
  // More samples than the capacity run in batches of it: still no new plan.
  CHECK(p.predict(data.X).cols() == 200);
  CHECK(p.context().capacity() == 64);
}

TEST_CASE("fit's refusals name the FitOptions field a C++ caller set", "[train]") {
  const auto data = test::tiny_moons(20);
  auto m = mlp({2, 3, 1}, models::Activation::relu, models::Init::he);
  train::FitOptions none = quiet(0, 0.1);
  CHECK_THROWS_WITH(train::fit(m, data, nullptr, none),
                    Catch::Contains("FitOptions") && Catch::Contains("iterations (0)") && Catch::Contains("epochs (0)"));
  train::FitOptions both = quiet(5, 0.1);
  both.epochs = 2;
  CHECK_THROWS_WITH(train::fit(m, data, nullptr, both), Catch::Contains("exactly one of iterations (5) and epochs (2)"));
  train::FitOptions batch = quiet(5, 0.1);
  batch.batch_size = -3;
  CHECK_THROWS_WITH(train::fit(m, data, nullptr, batch), Catch::Contains("FitOptions::batch_size") &&
                                                             Catch::Contains("-3") && Catch::Contains("full batch"));
  train::FitOptions patience = quiet(5, 0.1);
  patience.patience = -1;
  CHECK_THROWS_WITH(train::fit(m, data, nullptr, patience), Catch::Contains("FitOptions::patience"));
  // Half of a set (a data-parallel process's shard) is not the whole set:
  // without FitOptions::comm naming the processes, it is refused.
  const io::Dataset half = io::shard_of(test::tiny_moons(20), 0, 2);
  CHECK_THROWS_WITH(train::fit(m, half, nullptr, quiet(5, 0.1)),
                    Catch::Contains("10 of the set's 20 samples") && Catch::Contains("FitOptions::comm"));
  CHECK_THROWS_WITH(train::evaluate(m, half), Catch::Contains("10 of the set's 20 samples"));
  CHECK(m.steps == 0);  // nothing ran
}

namespace {

// What fit writes to a pseudo-terminal (as Open MPI gives every process of
// a job, even when mpirun's own output goes to a file), with and without
// mpirun's environment variable.
std::string fit_output_on_a_pty(bool under_mpirun) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  REQUIRE(master >= 0);
  REQUIRE(::grantpt(master) == 0);
  REQUIRE(::unlockpt(master) == 0);
  std::FILE* slave = std::fopen(::ptsname(master), "w");
  REQUIRE(slave != nullptr);
  REQUIRE(::isatty(::fileno(slave)) == 1);
  if (under_mpirun) ::setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
  auto m = mlp({2, 3, 1}, models::Activation::relu, models::Init::he);
  train::FitOptions o = quiet(40, 0.1);
  o.out = slave;
  o.print_every = 20;
  train::fit(m, test::tiny_moons(20), nullptr, o);
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  std::fclose(slave);
  std::string text;
  ::fcntl(master, F_SETFL, O_NONBLOCK);
  char buf[4096];
  for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(master);
  return text;
}

}  // namespace

TEST_CASE("under mpirun the progress bar draws nothing, even on a pseudo-terminal", "[train]") {
  // Without mpirun a terminal gets the bar: \r and the clear-to-end ESC[K.
  const std::string plain = fit_output_on_a_pty(false);
  CHECK(plain.find("\x1b[K") != std::string::npos);
  const std::string job = fit_output_on_a_pty(true);
  INFO(job);
  CHECK(job.find("\x1b[K") == std::string::npos);
  for (std::size_t at = job.find('\r'); at != std::string::npos; at = job.find('\r', at + 1))
    CHECK(job.substr(at, 2) == "\r\n");  // the terminal's own CR LF line ends alone, no redraw
  CHECK(job.find("Cost after iteration 20") != std::string::npos);
}
