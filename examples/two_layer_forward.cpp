// The notes' shallow network (C1W3), forward and backward, on a planar
// "flower" data set the example generates: n[0] = 2, n[1] = 4, tanh, sigmoid.
//
//   Z1 = W1 X + b1,  A1 = tanh(Z1),  Z2 = W2 A1 + b2,  A2 = sigmoid(Z2)
//   J  = -(1/m) sum(Y log A2 + (1 - Y) log(1 - A2))
#include <cmath>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "dagrad/dagrad.hpp"

int main() {
  using namespace dagrad;
  const std::int64_t m = 400, n_x = 2, n_h = 4;

  // The flower: two classes of petals r = 4 sin(4t), with noise.
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0.0, 0.2);
  std::vector<double> x(2 * m), y(m);
  for (std::int64_t i = 0; i < m; ++i) {
    const int j = i < m / 2 ? 0 : 1;
    const double t = 3.12 * (j + double(i % (m / 2)) / (m / 2)) + noise(rng);
    const double r = 4.0 * std::sin(4.0 * t) + noise(rng);
    x[i] = r * std::sin(t);
    x[m + i] = r * std::cos(t);
    y[i] = j;
  }

  Graph g(DType::f64);
  auto X = g.input("X", {n_x, m});       auto Y = g.input("Y", {1, m});
  auto W1 = g.param("W1", {n_h, n_x});   auto b1 = g.param("b1", {n_h, 1});
  auto W2 = g.param("W2", {1, n_h});     auto b2 = g.param("b2", {1, 1});
  auto A1 = tanh(W1 * X + b1).named("A1");              // (n_h x m)
  auto A2 = sigmoid(W2 * A1 + b2).named("A2");          // (1 x m)
  auto J = binary_cross_entropy(A2, Y).named("J");
  auto grads = gradients(J, {W1, b1, W2, b2});

  // Small random weights (randn * 0.01), zero biases, as the notes start.
  std::normal_distribution<double> randn(0.0, 1.0);
  std::vector<double> w1(n_h * n_x), bb1(n_h, 0.0), w2(n_h), bb2(1, 0.0);
  for (double& v : w1) v = 0.01 * randn(rng);
  for (double& v : w2) v = 0.01 * randn(rng);

  std::vector<NodeId> outputs{J.id, A2.id};
  for (Expr d : grads) outputs.push_back(d.id);
  runtime::Executor exec(g, outputs);
  exec.bind(X.id, x.data(), X.shape());   exec.bind(Y.id, y.data(), Y.shape());
  exec.bind(W1.id, w1.data(), W1.shape()); exec.bind(b1.id, bb1.data(), b1.shape());
  exec.bind(W2.id, w2.data(), W2.shape()); exec.bind(b2.id, bb2.data(), b2.shape());
  exec.run();

  fmt::print("graph: {} nodes, {} scheduled\n", g.size(), exec.schedule().size());
  fmt::print("J = {:.6f}  (log 2 = {:.6f}: small weights give A2 ~ 0.5)\n", exec.scalar(J.id),
             std::log(2.0));
  const char* names[] = {"dW1", "db1", "dW2", "db2"};
  for (std::size_t k = 0; k < grads.size(); ++k) {
    auto v = exec.values<double>(grads[k].id);
    fmt::print("{} {} = [{:.3e}]\n", names[k], to_string(grads[k].shape()), fmt::join(v, ", "));
  }
}
