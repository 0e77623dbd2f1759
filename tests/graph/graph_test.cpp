#include <catch2/catch.hpp>

#include <set>

#include <fmt/format.h>

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
  // Attributes compare as numbers: -0.0 == 0.0, so the two constants are one.
  CHECK(g.constant(-0.0, {2, 3}).id == g.constant(0.0, {2, 3}).id);
  CHECK(g.constant(1.0, {2, 3}).id != g.constant(0.0, {2, 3}).id);
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

// Boost's topological_sort is a depth-first search from vertex 0, 1, ...
// following each vertex's consumers in the order the edges were added, and
// emitting a vertex when all its consumers are done; reversed, that is the
// order below. Schedules, memory plans and `explain` follow it, so the
// storage under the graph must keep it exactly.
TEST_CASE("topological order is Boost's depth-first order over consumers in insertion order", "[graph]") {
  Graph g;
  auto X = g.input("X", {2, 2});      // 0
  auto W = g.param("W", {2, 2});      // 1
  auto Z = W * X;                     // 2: consumers of X and W
  auto E = exp(X);                    // 3: X's second consumer
  auto S = Z + E;                     // 4
  auto T = tanh(W);                   // 5: W's second consumer
  auto J = sum(S * T);                // 6 = S*T, 7 = sum
  // DFS from 0 (X): X -> Z -> S -> 6 -> 7; 7, 6, S done; Z done; X -> E (done: S);
  // E done; X done. Then 1 (W): W -> Z (done), W -> T -> 6 (done); T, W done.
  // Post-order: 7 6 4 2 3 0 5 1; reversed: 1 5 0 3 2 4 6 7.
  const std::vector<NodeId> want{W.id, T.id, X.id, E.id, Z.id, S.id, J.id - 1, J.id};
  CHECK(g.topological_order() == want);
  CHECK(g.consumers(X.id) == std::vector<NodeId>{Z.id, E.id});
  CHECK(g.consumers(W.id) == std::vector<NodeId>{Z.id, T.id});
  CHECK(g.consumers(J.id).empty());
}

TEST_CASE("ancestors and descendants follow the edges both ways", "[graph]") {
  Graph g;
  auto X = g.input("X", {2, 2});
  auto Y = g.input("Y", {2, 2});
  auto A = exp(X);
  auto B = A * A;  // an operand used twice: two parallel edges
  auto C = log(Y);
  const NodeId b[] = {B.id}, x[] = {X.id};
  const std::vector<bool> up = g.ancestors_of(b), down = g.descendants_of(x);
  CHECK(up == std::vector<bool>{true, false, true, true, false});
  CHECK(down == std::vector<bool>{true, false, true, true, false});
  CHECK(g.consumers(A.id) == std::vector<NodeId>{B.id});
  CHECK(C.id == 4);
}

TEST_CASE("reserve changes no id, name or merge, and many same-shape parameters stay distinct", "[graph]") {
  auto build = [](bool reserve) {
    Graph g;
    if (reserve) g.reserve(5000);
    std::vector<NodeId> ids;
    auto X = g.input("X", {16, 8});
    Expr A = X;
    for (int l = 1; l <= 600; ++l) {  // 600 (16x16) weights: one structural hash for all
      auto W = g.param(fmt::format("W{}", l), {16, 16});
      const Expr prev = A;
      A = relu(W * A).named(fmt::format("A{}", l));
      ids.push_back(W.id);
      ids.push_back(A.id);
      ids.push_back(relu(W * prev).id);  // the same expression again: merged
    }
    return std::pair{std::move(g), ids};
  };
  auto [plain, a] = build(false);
  auto [reserved, b] = build(true);
  CHECK(a == b);
  CHECK(plain.size() == reserved.size());
  for (int l = 1; l <= 600; ++l) {
    const std::string w = fmt::format("W{}", l);
    REQUIRE(reserved.find(w));
    CHECK(*reserved.find(w) == *plain.find(w));
    CHECK(reserved.node(*reserved.find(w)).op == OpKind::param);
  }
  // The weights were not merged, and each repeated expression was.
  for (std::size_t k = 0; k < b.size(); k += 3) CHECK(b[k + 2] == b[k + 1]);
  std::set<NodeId> weights;
  for (int l = 1; l <= 600; ++l) weights.insert(*reserved.find(fmt::format("W{}", l)));
  CHECK(weights.size() == 600);
  Expr W1 = reserved.expr(*reserved.find("W1")), X = reserved.expr(*reserved.find("X"));
  CHECK((W1 * X).id == reserved.node(*reserved.find("A1")).inputs[0]);
  // A copy (over many storage segments) has every node, name and merge.
  const Graph copy = reserved;
  REQUIRE(copy.size() == reserved.size());
  for (NodeId id = 0; id < copy.size(); ++id) {
    CHECK(copy.node(id).op == reserved.node(id).op);
    CHECK(copy.node(id).inputs == reserved.node(id).inputs);
    CHECK(copy.node(id).name == reserved.node(id).name);
  }
  CHECK(copy.find("A600") == reserved.find("A600"));
  CHECK(copy.topological_order() == reserved.topological_order());
}

TEST_CASE("a name moves with set_name, and a name another node holds is refused", "[graph]") {
  Graph g;
  auto X = g.input("X", {2, 2});
  auto A = exp(X).named("A");
  CHECK(g.find("A") == A.id);
  A.named("B");
  CHECK_FALSE(g.find("A"));
  CHECK(g.find("B") == A.id);
  auto C = log(X);
  CHECK_THROWS_WITH(C.named("B"), Catch::Contains("name 'B' is already used"));
  C.named("A");  // the freed name
  CHECK(g.find("A") == C.id);
  A.named("B");  // its own name again: nothing changes
  CHECK(g.find("B") == A.id);
  for (int i = 0; i < 3000; ++i) C.named(fmt::format("N{}", i));  // renames leave tombstones
  CHECK(g.find("N2999") == C.id);
  CHECK_FALSE(g.find("N0"));
  CHECK(g.find("B") == A.id);
}

TEST_CASE("subgraph copies the listed nodes in that order, renumbered, and still merges", "[graph]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  auto W = g.param("W", {4, 2});
  auto Z = (W * X).named("Z1");
  auto dead = exp(X);
  Expr A;
  {
    BuildScope scope(g, Role::backward, 7);
    A = tanh(Z).named("A1");
  }
  const NodeId order[] = {W.id, X.id, Z.id, A.id};
  std::vector<NodeId> map;
  Graph s = g.subgraph(order, map);
  REQUIRE(s.size() == 4);
  CHECK(map[W.id] == 0);
  CHECK(map[X.id] == 1);
  CHECK(map[Z.id] == 2);
  CHECK(map[A.id] == 3);
  CHECK(map[dead.id] == ~NodeId{0});
  CHECK(s.node(2).inputs == std::vector<NodeId>{0, 1});
  CHECK(s.node(2).op == OpKind::matmul);
  CHECK(s.node(2).shape == Shape{4, 3});
  CHECK(s.node(3).role == Role::backward);
  CHECK(s.node(3).layer == 7);
  CHECK(s.node(0).role == Role::param);
  CHECK(s.find("Z1") == std::optional<NodeId>(2));
  CHECK(s.find("A1") == std::optional<NodeId>(3));
  CHECK(s.find("W") == std::optional<NodeId>(0));
  CHECK(s.consumers(0) == std::vector<NodeId>{2});
  CHECK(s.consumers(2) == std::vector<NodeId>{3});
  // The copy hash-conses as the original does: the same tanh is found, not added.
  CHECK(tanh(s.expr(2)).id == 3);
  CHECK(s.size() == 4);
}

TEST_CASE("subgraph refuses an operand listed after its consumer, left out, or a node listed twice", "[graph]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  auto A = tanh(X);
  std::vector<NodeId> map;
  const NodeId late[] = {A.id, X.id};
  CHECK_THROWS_WITH(g.subgraph(late, map), Catch::Contains("is listed before its operand X"));
  const NodeId missing[] = {A.id};
  CHECK_THROWS_WITH(g.subgraph(missing, map), Catch::Contains("is listed before its operand X"));
  const NodeId twice[] = {X.id, X.id};
  CHECK_THROWS_WITH(g.subgraph(twice, map), Catch::Contains("X is listed twice"));
}

TEST_CASE("consumers are listed once each, in increasing id order", "[graph]") {
  Graph g;
  auto X = g.input("X", {2, 2});
  auto Y = g.input("Y", {2, 2});
  auto P = mul(X, X);  // reads X twice
  auto Q = exp(Y);
  auto R = Y + X;
  CHECK(g.consumers(X.id) == std::vector<NodeId>{P.id, R.id});
  CHECK(g.consumers(Y.id) == std::vector<NodeId>{Q.id, R.id});
  CHECK(g.consumers(R.id).empty());
}
