// Regression with the squared error: a one-hidden-layer tanh net with a
// linear output fits y = sin(3 x1) + x2^2 / 2 from noisy samples.
//
//   A[1] = tanh(W[1] X + b[1])
//   A[2] = W[2] A[1] + b[2]                    identity output
//   J    = 1/(2m) sum((A[2] - Y)^2)            dZ[2] = 1/m (A[2] - Y)
#include <cmath>
#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "dagrad/dagrad.hpp"

namespace {

dagrad::io::Dataset samples(std::int64_t m, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> x(-1.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.05);
  dagrad::io::Dataset d{dagrad::io::Matrix({2, m}), dagrad::io::Matrix({1, m}), "generated"};
  for (std::int64_t i = 0; i < m; ++i) {
    d.X(0, i) = x(rng);
    d.X(1, i) = x(rng);
    d.Y(0, i) = std::sin(3 * d.X(0, i)) + d.X(1, i) * d.X(1, i) / 2 + noise(rng);
  }
  return d;
}

}  // namespace

int main() {
  using namespace dagrad;
  models::Model model;
  Graph& g = model.graph();
  auto X = g.input("X", {2, m_dim}), Y = g.input("Y", {1, m_dim});
  auto W1 = g.param("W1", {20, 2}), b1 = g.param("b1", {20, 1});  // He init by default
  auto W2 = g.param("W2", {1, 20}), b2 = g.param("b2", {1, 1});
  auto A1 = tanh(W1 * X + b1).named("A1");
  auto A2 = (W2 * A1 + b2).named("A2");
  model.set_cost(mean_squared_error(A2, Y).named("J"));
  model.set_output(A2);

  train::FitOptions o;
  o.epochs = 300;
  o.batch_size = 32;
  o.optimizer.kind = train::OptimizerKind::adam;
  o.optimizer.learning_rate = 0.01;
  o.print_every = 100;
  o.progress = false;
  train::fit(model, samples(500, 1), nullptr, o);

  const auto path = std::filesystem::temp_directory_path() / "regression.dagrad";
  models::save_model(model, path);
  models::Model again = models::load_model(path);
  std::filesystem::remove(path);
  const train::Evaluation test = train::evaluate(again, samples(200, 2));
  fmt::print("regression (reloaded): test cost {:.5f}, R^2 {:.4f}\n", test.cost, test.r2);
  return test.r2 > 0.9 ? 0 : 1;  // ctest runs the examples
}
