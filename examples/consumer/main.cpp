// A program outside the dagrad tree, built against an installed dagrad
// (find_package(dagrad), #include <dagrad/dagrad.hpp>): it defines the notes'
// 2-layer network in the DSL, trains it with fit on the planar flower,
// saves it, reloads it and checks that the reloaded model predicts the
// same and that training worked, then serves it through serve::InferencePlan
// (samples as rows, as ONNX takes them) from two threads. Exit 1 when not.
//
//   Z1 = W1 X + b1,  A1 = tanh(Z1),  Z2 = W2 A1 + b2,  A2 = sigmoid(Z2)
//   J  = -(1/m) sum(Y log A2 + (1 - Y) log(1 - A2))
#include <cmath>
#include <filesystem>
#include <span>
#include <thread>
#include <vector>

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

  // Serving: one plan, one context per thread, the model's dtype in and out.
  const serve::InferencePlan plan(again);
  const io::Matrix P = train::predict(again, flower.X);  // (1 x 400), samples as columns
  std::vector<double> x(400 * 2);                        // samples as rows: (400 x 2)
  for (std::int64_t s = 0; s < 400; ++s)
    for (std::int64_t k = 0; k < 2; ++k) x[std::size_t(s * 2 + k)] = flower.X(k, s);
  bool served = true;
  std::vector<std::thread> threads;
  std::vector<int> ok(2, 1);
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      serve::Context ctx(plan);
      std::vector<double> y(400);
      for (int call = 0; call < 10; ++call) {
        plan.predict(ctx, std::span<const double>(x), std::span<double>(y), serve::Layout::rows);
        for (std::int64_t s = 0; s < 400; ++s)
          if (std::abs(y[std::size_t(s)] - P(0, s)) > 1e-12) ok[std::size_t(t)] = 0;
      }
    });
  for (std::thread& th : threads) th.join();
  served = ok[0] && ok[1];
  fmt::print("served through serve::InferencePlan on 2 threads: {} ({})\n", served ? "same" : "DIFFERENT",
             plan.describe());
  return same && served && accuracy > 0.85 && r.costs.back() < r.costs.front() ? 0 : 1;
}
