#include <algorithm>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

namespace {

// A (2x3), B (3x2) and their transposes, row-major.
const std::vector<double> a{1, 2, 3, 4, 5, 6};
const std::vector<double> at{1, 4, 2, 5, 3, 6};
const std::vector<double> b{7, 8, 9, 10, 11, 12};
const std::vector<double> bt{7, 9, 11, 8, 10, 12};
// A B by hand: [1*7+2*9+3*11, 1*8+2*10+3*12; 4*7+5*9+6*11, 4*8+5*10+6*12].
const std::vector<double> ab{58, 64, 139, 154};

}  // namespace

TEMPLATE_TEST_CASE("matmul with every transpose flag gives the hand product", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  auto A = h.input("A", {2, 3}, a);
  auto At = h.input("At", {3, 2}, at);
  auto B = h.input("B", {3, 2}, b);
  auto Bt = h.input("Bt", {2, 3}, bt);
  auto nn = matmul(A, false, B, false);
  auto tn = matmul(At, true, B, false);
  auto nt = matmul(A, false, Bt, true);
  auto tt = matmul(At, true, Bt, true);
  auto half = matmul(A, B, 0.5);
  for (Expr e : {nn, tn, nt, tt, half}) {
    CHECK(e.node().op == OpKind::matmul);
    CHECK(e.shape() == Shape{2, 2});
  }
  CHECK(tt.node().template attr<MatmulAttrs>().trans_a);
  CHECK(tt.node().template attr<MatmulAttrs>().trans_b);
  const auto v = h.run({nn, tn, nt, tt, half});
  for (int k = 0; k < 4; ++k) check_values<TestType>(v[static_cast<std::size_t>(k)], ab);
  check_values<TestType>(v[4], {29, 32, 69.5, 77});
}

TEMPLATE_TEST_CASE("matmul of a non-square chain: (1x3)(3x4)", "[ops]", float, double) {
  OpHarness<TestType> h;
  const std::vector<double> w{0.5, -1, 2}, x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  auto W = h.input("W", {1, 3}, w);
  auto X = h.input("X", {3, 4}, x);
  std::vector<double> expected(4, 0.0);
  for (int j = 0; j < 4; ++j)
    for (int k = 0; k < 3; ++k) expected[j] += w[k] * x[k * 4 + j];
  check_values<TestType>(h.run(W * X), expected);
}

TEMPLATE_TEST_CASE("A * transpose(B) is one matmul with trans_b, no transpose scheduled",
                   "[ops]", float, double) {
  OpHarness<TestType> h;
  auto A = h.input("A", {2, 3}, a);
  auto Bt = h.input("Bt", {2, 3}, bt);
  auto Y = A * transpose(Bt);
  REQUIRE(Y.node().op == OpKind::matmul);
  CHECK_FALSE(Y.node().template attr<MatmulAttrs>().trans_a);
  CHECK(Y.node().template attr<MatmulAttrs>().trans_b);
  CHECK(Y.node().inputs == std::vector<NodeId>{A.id, Bt.id});
  const NodeId out[] = {Y.id};
  for (NodeId id : h.g.schedule(out)) CHECK(h.g.node(id).op != OpKind::transpose);
  check_values<TestType>(h.run(Y), ab);
}

TEMPLATE_TEST_CASE("transpose(A) * B folds into trans_a", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto At = h.input("At", {3, 2}, at);
  auto B = h.input("B", {3, 2}, b);
  auto Y = transpose(At) * B;
  REQUIRE(Y.node().op == OpKind::matmul);
  CHECK(Y.node().template attr<MatmulAttrs>().trans_a);
  CHECK_FALSE(Y.node().template attr<MatmulAttrs>().trans_b);
  const NodeId out[] = {Y.id};
  for (NodeId id : h.g.schedule(out)) CHECK(h.g.node(id).op != OpKind::transpose);
  check_values<TestType>(h.run(Y), ab);
}

TEST_CASE("matmul inner mismatch names the op, both operands and shapes", "[ops]") {
  Graph g;
  auto W2 = g.param("W2", {1, 4});
  auto A1 = g.input("A1", {3, 400});
  REQUIRE_THROWS_AS(W2 * A1, ShapeError);
  REQUIRE_THROWS_WITH(W2 * A1, "matmul W2 (1x4) * A1 (3x400): inner dimensions 4 != 3");
  // With a transpose flag the message gives the stored shapes and the
  // dimensions that were compared.
  REQUIRE_THROWS_WITH(matmul(W2, true, A1, false),
                      "matmul W2 (1x4) * A1 (3x400): inner dimensions 1 != 3");
}
