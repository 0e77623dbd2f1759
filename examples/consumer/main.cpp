// A program outside the dagrad tree, built against an installed dagrad
// (find_package(dagrad), #include <dagrad/dagrad.hpp>): it defines the notes'
// 2-layer network in the DSL, trains it with fit on the planar flower,
// saves it, reloads it and checks that the reloaded model predicts the
// same and that training worked. Exit 1 when not.
//
//   Z1 = W1 X + b1,  A1 = tanh(Z1),  Z2 = W2 A1 + b2,  A2 = sigmoid(Z2)
//   J  = -(1/m) sum(Y log A2 + (1 - Y) log(1 - A2))
#include <filesystem>

#include <fmt/format.h>

#include <dagrad/dagrad.hpp>

int main() {
  using namespace dagrad;
  models::Model model;
  Graph& g = model.graph();
  auto X = g.input("X", {2, m_dim});
  auto Y = g.input("Y", {1, m_dim});
  auto W1 = g.param("W1", {4, 2}), b1 = g.param("b1", {4, 1});
  auto W2 = g.param("W2", {1, 4}), b2 = g.param("b2", {1, 1});
  auto A1 = tanh(W1 * X + b1).named("A1");
  auto A2 = sigmoid(W2 * A1 + b2).named("A2");
  model.set_cost(binary_cross_entropy(A2, Y).named("J"));
  model.set_output(A2);
  model.set_init(models::Init::small);
  model.seed = 2;

  const io::Dataset flower = train::make_planar(400, 1);
  train::FitOptions o;
  o.iterations = 3000;
  o.optimizer.learning_rate = 1.2;
  o.out = nullptr;
  const train::FitResult r = train::fit(model, flower, nullptr, o);

  const auto path = std::filesystem::temp_directory_path() / "dagrad_consumer.dagrad";
  models::save_model(model, path);
  models::Model again = models::load_model(path);
  std::filesystem::remove(path);
  const bool same = train::predict(again, flower.X) == train::predict(model, flower.X);
  const double accuracy = train::evaluate(again, flower).accuracy;
  fmt::print("J: {:.6f} -> {:.6f}; reloaded model: same predictions {}, accuracy {:.2f}%\n",
             r.costs.front(), r.costs.back(), same, 100 * accuracy);
  return same && accuracy > 0.85 && r.costs.back() < r.costs.front() ? 0 : 1;
}
