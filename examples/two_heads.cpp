// Two heads on one trunk, trained on a summed cost: on the moons, head 1
// classifies the moon and head 2 regresses the distance from the origin.
//
//   A[2] = relu(W[2] relu(W[1] X + b[1]) + b[2])   the shared trunk
//   P    = sigmoid(U A[2] + c)                      head 1: the moon
//   R    = V A[2] + d                               head 2: the distance
//   J    = BCE(P, Y) + 1/(2m) sum((R - D)^2)        one cost for both
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "dagrad/dagrad.hpp"

int main() {
  using namespace dagrad;
  models::Model model;
  Graph& g = model.graph();
  auto X = g.input("X", {2, m_dim}), Y = g.input("Y", {1, m_dim}), D = g.input("D", {1, m_dim});
  auto W1 = g.param("W1", {16, 2}), b1 = g.param("b1", {16, 1});
  auto W2 = g.param("W2", {8, 16}), b2 = g.param("b2", {8, 1});
  auto U = g.param("U", {1, 8}), c = g.param("c", {1, 1});  // head 1: the class
  auto V = g.param("V", {1, 8}), d = g.param("d", {1, 1});  // head 2: the distance
  auto A2 = relu(W2 * relu(W1 * X + b1) + b2).named("A2");
  auto P = sigmoid(U * A2 + c).named("P");
  auto R = (V * A2 + d).named("R");
  model.set_cost((binary_cross_entropy(P, Y) + mean_squared_error(R, D)).named("J"));
  model.set_outputs({P, R});

  // Every input whose columns are samples is cut into the same mini-batches.
  auto with_distance = [](io::Dataset s) {
    io::Matrix dist({1, s.samples()});
    for (std::int64_t i = 0; i < s.samples(); ++i) dist(0, i) = std::hypot(s.X(0, i), s.X(1, i));
    s.inputs.emplace_back("D", dist);
    return s;
  };
  const io::Dataset train_set = with_distance(train::make_moons(600, 0.2, 1));
  const io::Dataset test_set = with_distance(train::make_moons(300, 0.2, 2));
  train::FitOptions o;
  o.epochs = 150;
  o.batch_size = 64;
  o.optimizer.kind = train::OptimizerKind::adam;
  o.optimizer.learning_rate = 0.005;
  o.print_every = 50;
  o.progress = false;
  train::fit(model, train_set, nullptr, o);

  const auto path = std::filesystem::temp_directory_path() / "two_heads.dagrad";
  models::save_model(model, path);
  models::Model again = models::load_model(path);
  std::filesystem::remove(path);
  const io::Matrix out = train::predict(again, test_set.X);  // rows: P, then R
  io::Matrix p({1, test_set.samples()}), r({1, test_set.samples()});
  for (std::int64_t i = 0; i < test_set.samples(); ++i) p(0, i) = out(0, i), r(0, i) = out(1, i);
  const double acc = train::accuracy(p, test_set.Y), r2 = train::r_squared(r, test_set.inputs[0].second);
  fmt::print("two heads (reloaded): test J {:.4f}, class accuracy {:.2f}%, distance R^2 {:.4f}\n",
             train::evaluate(again, test_set).cost, 100 * acc, r2);
  return acc > 0.9 && r2 > 0.9 ? 0 : 1;  // ctest runs the examples
}
