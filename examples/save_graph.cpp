// The notes' shallow network (C1W3) with its derived backward pass, saved as
// a graph file that `dagrad gradcheck --graph` (or any JSON reader) can take:
//
//   Z1 = W1 X + b1,  A1 = tanh(Z1),  Z2 = W2 A1 + b2,  A2 = sigmoid(Z2)
//   J  = -(1/m) sum(Y log A2 + (1 - Y) log(1 - A2))
//   dZ2 = A2 - Y, dW2 = 1/m dZ2 A1^T, db2 = 1/m sum(dZ2), dZ1 = W2^T dZ2 * (1 - A1^2), ...
//
// Usage: save_graph [OUT.json]   (default two_layer.json)
#include <fmt/format.h>

#include "dagrad/dagrad.hpp"
#include "dagrad/graph/graph_file.hpp"

int main(int argc, char** argv) {
  using namespace dagrad;
  const std::string out = argc > 1 ? argv[1] : "two_layer.json";
  const std::int64_t m = 400, n_x = 2, n_h = 4;

  Graph g(DType::f64);
  auto X = g.input("X", {n_x, m});
  auto Y = g.input("Y", {1, m});
  auto W1 = g.param("W1", {n_h, n_x});
  auto b1 = g.param("b1", {n_h, 1});
  auto W2 = g.param("W2", {1, n_h});
  auto b2 = g.param("b2", {1, 1});
  Expr A1, A2;
  {
    BuildScope layer1(g, Role::forward, 1);
    auto Z1 = (W1 * X + b1).named("Z1");
    A1 = tanh(Z1).named("A1");  // (n_h x m)
  }
  {
    BuildScope layer2(g, Role::forward, 2);
    auto Z2 = (W2 * A1 + b2).named("Z2");
    A2 = sigmoid(Z2).named("A2");  // (1 x m)
  }
  auto J = binary_cross_entropy(A2, Y).named("J");
  auto grads = gradients(J, {W1, b1, W2, b2});  // dW1, db1, dW2, db2

  try {
    save(g, out);
  } catch (const Error& e) {
    fmt::print(stderr, "save_graph: {}\n", e.what());
    return 2;
  }
  std::size_t backward = 0;
  for (NodeId id = 0; id < g.size(); ++id) backward += g.node(id).role == Role::backward;
  fmt::print("wrote {}: {} nodes, {} of them backward ({} gradients)\n", out, g.size(), backward,
             grads.size());
  fmt::print("check it: dagrad gradcheck --graph {}\n", out);
}
