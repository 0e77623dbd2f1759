// The DSL's construction-time identities: what node each expression builds.
#include <catch2/catch.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/dsl.hpp"

using namespace dagrad;

TEST_CASE("* between matrices is matmul, mul() is element-wise", "[dsl]") {
  Graph g;
  auto W = g.param("W1", {4, 2});
  auto X = g.input("X", {2, 5});
  auto Z = W * X;
  CHECK(Z.node().op == OpKind::matmul);
  CHECK(Z.shape() == Shape{4, 5});
  CHECK(mul(Z, Z).node().op == OpKind::mul);
  CHECK((2.0 * Z).node().op == OpKind::affine);
}

TEST_CASE("transposes fold into the matmul flags", "[dsl]") {
  Graph g;
  auto A = g.input("A", {3, 4});
  auto B = g.input("B", {5, 4});
  auto Y = A * transpose(B);
  CHECK(Y.node().attr<MatmulAttrs>().trans_b);
  CHECK(Y.node().inputs[1] == B.id);
  auto Z = transpose(A) * A;
  CHECK(Z.node().attr<MatmulAttrs>().trans_a);
  CHECK(Z.shape() == Shape{4, 4});
  CHECK(transpose(transpose(A)).id == A.id);
  // Both flags at once: (A^T)^T-style double folds cancel.
  auto W = matmul(transpose(A), true, B, true);
  CHECK_FALSE(W.node().attr<MatmulAttrs>().trans_a);
  CHECK(W.node().attr<MatmulAttrs>().trans_b);
}

TEST_CASE("identity operands vanish: x + 0, x * 1, x / 1, x - 0", "[dsl]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  auto zero = g.constant(0.0, {1, 1});
  auto one = g.constant(1.0, {2, 3});
  CHECK((X + zero).id == X.id);
  CHECK((zero + X).id == X.id);
  CHECK((X - zero).id == X.id);
  CHECK(mul(X, one).id == X.id);
  CHECK(mul(one, X).id == X.id);
  CHECK((X / one).id == X.id);
  CHECK((1.0 * X).id == X.id);
  CHECK((X + 0.0).id == X.id);
  // A constant that would widen x is not an identity: (2x3) + zeros(4x3) fails.
  auto big_zero = g.constant(0.0, {4, 3});
  REQUIRE_THROWS_AS(X + big_zero, ShapeError);
}

TEST_CASE("scalar arithmetic folds into one affine node", "[dsl]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  // 2 (3x + 1) + 4 = 6x + 6
  auto Y = 2.0 * (3.0 * X + 1.0) + 4.0;
  REQUIRE(Y.node().op == OpKind::affine);
  CHECK(Y.node().inputs[0] == X.id);
  CHECK(Y.node().attr<AffineAttrs>().scale == Scale(6.0));
  CHECK(Y.node().attr<AffineAttrs>().offset == 6.0);
  CHECK((-X).node().op == OpKind::neg);
  CHECK((-(-X)).id == X.id);
  CHECK((-1.0 * X).node().op == OpKind::neg);
  // A constant absorbs the arithmetic.
  auto c = 3.0 * g.constant(2.0, {1, 1}) + 1.0;
  REQUIRE(c.node().op == OpKind::constant);
  CHECK(c.node().attr<ConstantAttrs>().value == 7.0);
}

TEST_CASE("a scalar scale moves outward through linear ops", "[dsl]") {
  Graph g;
  auto A = g.input("A", {3, 4});
  auto B = g.input("B", {4, 2});
  // (0.5 A) B = 0.5 (A B): the affine ends up outside the matmul.
  auto Y = matmul(0.5 * A, B);
  REQUIRE(Y.node().op == OpKind::affine);
  CHECK(Y.node().attrs.scale_factor().value == 0.5);
  CHECK(g.node(Y.node().inputs[0]).op == OpKind::matmul);
  // sum(s x) carries s on the reduction: db = 1/m sum(dZ, axis 1).
  auto db = sum(0.25 * A, 1);
  CHECK(db.node().op == OpKind::sum);
  CHECK(db.node().attrs.scale_factor().value == 0.25);
  CHECK(db.node().inputs[0] == A.id);
  // mul(s a, b) = s mul(a, b)
  auto C = g.input("C", {3, 4});
  auto m = mul(2.0 * A, C);
  REQUIRE(m.node().op == OpKind::affine);
  CHECK(g.node(m.node().inputs[0]).op == OpKind::mul);
}

TEST_CASE("cross-entropy of a sigmoid or softmax fuses to the logits form", "[dsl]") {
  Graph g;
  auto Z = g.input("Z", {1, 4});
  auto Y = g.input("Y", {1, 4});
  auto J = binary_cross_entropy(sigmoid(Z), Y);
  CHECK(J.node().op == OpKind::bce_logits);
  CHECK(J.node().inputs == std::vector<NodeId>{Z.id, Y.id});
  CHECK(binary_cross_entropy(tanh(Z), Y).node().op == OpKind::bce);
  auto Zk = g.input("Zk", {3, 4});
  auto Yk = g.input("Yk", {3, 4});
  CHECK(categorical_cross_entropy(softmax(Zk), Yk).node().op == OpKind::softmax_ce);
  CHECK(categorical_cross_entropy(exp(Zk), Yk).node().op == OpKind::categorical_ce);
}

TEST_CASE("identical expressions are one node", "[dsl]") {
  Graph g;
  auto X = g.input("X", {2, 2});
  CHECK(relu(X).id == relu(X).id);
  CHECK(leaky_relu(X, 0.1).id != leaky_relu(X, 0.2).id);
  CHECK(sum(X, 0).id != sum(X, 1).id);
}

TEST_CASE("operands from two graphs or empty expressions are graph errors", "[dsl]") {
  Graph g, h;
  auto X = g.input("X", {2, 2});
  auto Y = h.input("Y", {2, 2});
  REQUIRE_THROWS_AS(X + Y, GraphError);
  REQUIRE_THROWS_AS(mul(X, Expr{}), GraphError);
  REQUIRE_THROWS_AS(exp(Expr{}), GraphError);
}

TEST_CASE("names: .named() sets the node's name and find() returns it", "[dsl]") {
  Graph g;
  auto X = g.input("X", {2, 2});
  auto A = tanh(X).named("A1");
  CHECK(A.name() == "A1");
  REQUIRE(g.find("A1").has_value());
  CHECK(*g.find("A1") == A.id);
  CHECK(g.describe(A.id) == "A1");
}

TEST_CASE("a shape error names an unnamed operand by what it computes from the user's nodes", "[graph][dsl]") {
  Graph g(DType::f64);
  Expr X = g.input("X", {2, m_dim});
  Expr W1 = g.param("W1", {4, 2}), b1 = g.param("b1", {4, 1}), W2 = g.param("W2", {1, 3});
  Expr Z1 = W1 * X + b1;  // unnamed: described as add(matmul(W1, X), b1), not %5
  CHECK(g.describe(Z1.id) == "add(matmul(W1, X), b1)");
  CHECK_THROWS_WITH(W2 * Z1, Catch::Contains("W2 (1x3)") && Catch::Contains("add(matmul(W1, X), b1) (4xm)") &&
                                 !Catch::Contains("%"));
  // Deeper than two levels: the id and op.
  Expr deep = tanh(tanh(tanh(W1 * X)));
  CHECK(g.describe(deep.id).find("tanh(tanh(%") == 0);
}
