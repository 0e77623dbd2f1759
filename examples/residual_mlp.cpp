// A residual MLP, written as the notes write a layer, trained with fit on
// the moons data set, saved, reloaded and evaluated:
//
//   A[1] = relu(W[1] X + b[1])
//   A[2] = relu(W[2] A[1] + b[2]) + A[1]       the residual connection
//   A[3] = sigmoid(W[3] A[2] + b[3])
//   J    = -(1/m) sum(Y log A[3] + (1 - Y) log(1 - A[3]))
#include <filesystem>

#include <fmt/format.h>

#include "dagrad/dagrad.hpp"

int main() {
  using namespace dagrad;
  const std::int64_t n_x = 2, n_h = 16;
  models::Model model;
  Graph& g = model.graph();
  auto X = g.input("X", {n_x, m_dim});  // m: any number of samples
  auto Y = g.input("Y", {1, m_dim});
  auto W1 = g.param("W1", {n_h, n_x}), b1 = g.param("b1", {n_h, 1});
  auto W2 = g.param("W2", {n_h, n_h}), b2 = g.param("b2", {n_h, 1});
  auto W3 = g.param("W3", {1, n_h}), b3 = g.param("b3", {1, 1});
  auto A1 = relu(W1 * X + b1).named("A1");
  auto A2 = (relu(W2 * A1 + b2) + A1).named("A2");
  auto A3 = sigmoid(W3 * A2 + b3).named("A3");
  model.set_cost(binary_cross_entropy(A3, Y).named("J"));
  model.set_output(A3);

  const io::Dataset train_set = train::make_moons(600, 0.2, 1);
  const io::Dataset test_set = train::make_moons(300, 0.2, 2);
  train::FitOptions o;
  o.epochs = 200;
  o.batch_size = 64;
  o.optimizer.kind = train::OptimizerKind::adam;
  o.optimizer.learning_rate = 0.005;
  o.print_every = 50;
  o.progress = false;
  train::fit(model, train_set, nullptr, o);  // He init, Adam, mini-batches: no loop to write

  const auto path = std::filesystem::temp_directory_path() / "residual_mlp.dagrad";
  models::save_model(model, path);
  models::Model again = models::load_model(path);
  std::filesystem::remove(path);
  const double test = train::evaluate(again, test_set).accuracy;
  fmt::print("residual MLP on moons: train accuracy {:.2f}%, test accuracy {:.2f}% (reloaded)\n",
             100 * train::evaluate(again, train_set).accuracy, 100 * test);
  return test > 0.9 ? 0 : 1;  // ctest runs the examples
}
