#include <catch2/catch.hpp>

#include "dagrad/dagrad.hpp"

using namespace dagrad;

TEST_CASE("matmul shape error names both operands and shapes", "[graph]") {
  Graph g;
  auto W2 = g.param("W2", {1, 4});
  auto A1 = g.input("A1", {3, 400});
  REQUIRE_THROWS_WITH(W2 * A1, "matmul W2 (1x4) * A1 (3x400): inner dimensions 4 != 3");
}

TEST_CASE("topological order puts operands first, and schedule prunes dead nodes", "[graph]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  auto W = g.param("W", {4, 2});
  auto Z = W * X;
  auto dead = exp(X);
  auto A = tanh(Z);
  const auto order = g.topological_order();
  auto pos = [&](NodeId id) { return std::find(order.begin(), order.end(), id) - order.begin(); };
  CHECK(pos(X.id) < pos(Z.id));
  CHECK(pos(W.id) < pos(Z.id));
  CHECK(pos(Z.id) < pos(A.id));
  const NodeId out[] = {A.id};
  const auto s = g.schedule(out);
  CHECK(std::find(s.begin(), s.end(), dead.id) == s.end());
  CHECK(s.size() == 4);
}

TEST_CASE("identical nodes are shared (hash-consing)", "[graph]") {
  Graph g;
  auto Z = g.input("Z", {2, 3});
  CHECK(sigmoid(Z).id == sigmoid(Z).id);
  CHECK(sigmoid(Z).id != tanh(Z).id);
}

TEST_CASE("a graph file with a cycle or a dangling edge is rejected", "[graph]") {
  Node a;
  a.op = OpKind::exp;
  a.inputs = {1};
  a.shape = {1, 1};
  Node b = a;
  b.inputs = {0};
  REQUIRE_THROWS_WITH(Graph::from_nodes(DType::f64, {a, b}), "the graph has a cycle");
  Node c = a;
  c.inputs = {7};
  REQUIRE_THROWS_AS(Graph::from_nodes(DType::f64, {c}), GraphError);
}
