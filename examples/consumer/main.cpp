// The notes' 2-layer network (C1W3) forward pass, built against an installed
// dagrad:
//
//   Z1 = W1 X + b1,  A1 = tanh(Z1),  Z2 = W2 A1 + b2,  A2 = sigmoid(Z2)
//   J  = -(1/m) sum(Y log A2 + (1 - Y) log(1 - A2))
//
// With W2 = 0 and b2 = 0 every A2 is 1/2, so J = log 2 whatever X and W1
// are: the program prints J and exits 1 when it is not log 2.
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include <dagrad/dagrad.hpp>

int main() {
  using namespace dagrad;
  const std::int64_t m = 4, n_x = 2, n_h = 3;
  Graph g(DType::f64);
  auto X = g.input("X", {n_x, m});
  auto Y = g.input("Y", {1, m});
  auto W1 = g.param("W1", {n_h, n_x});
  auto b1 = g.param("b1", {n_h, 1});
  auto W2 = g.param("W2", {1, n_h});
  auto b2 = g.param("b2", {1, 1});
  auto A1 = tanh(W1 * X + b1).named("A1");
  auto A2 = sigmoid(W2 * A1 + b2).named("A2");
  auto J = binary_cross_entropy(A2, Y).named("J");

  const std::vector<double> x{0.5, -1.0, 2.0, 0.0, 1.5, 0.3, -0.7, 1.0}, y{1, 0, 0, 1};
  const std::vector<double> w1{0.1, -0.2, 0.4, 0.3, -0.5, 0.25}, bb1{0.05, -0.1, 0.2};
  const std::vector<double> w2(n_h, 0.0), bb2{0.0};
  runtime::Executor exec(g, {J.id});
  exec.bind(X.id, x.data(), X.shape());
  exec.bind(Y.id, y.data(), Y.shape());
  exec.bind(W1.id, w1.data(), W1.shape());
  exec.bind(b1.id, bb1.data(), b1.shape());
  exec.bind(W2.id, w2.data(), W2.shape());
  exec.bind(b2.id, bb2.data(), b2.shape());
  exec.run();

  const double cost = exec.scalar(J.id);
  fmt::print("J = {:.12f} (log 2 = {:.12f})\n", cost, std::log(2.0));
  return std::abs(cost - std::log(2.0)) < 1e-12 ? 0 : 1;
}
