#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("categorical cross-entropy of a plain A, worked by hand", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  auto A = h.input("A", {3, 2}, {1.0 / 6, 0.25, 1.0 / 3, 0.25, 0.5, 0.5});
  auto Y = h.input("Y", {3, 2}, {0, 0, 0, 1, 1, 0});
  auto J = categorical_cross_entropy(A, Y);
  REQUIRE(J.node().op == OpKind::categorical_ce);
  // -(1/2) (log 1/2 + log 1/4) = (log 2 + log 4) / 2 = 3 log 2 / 2
  check_values<TestType>(h.run(J), {1.5 * std::log(2.0)}, eps_of<TestType>);
}

TEST_CASE("categorical cross-entropy with mismatched shapes names both operands", "[ops]") {
  Graph g;
  auto A = g.input("A", {3, 2});
  auto Y = g.input("Y", {2, 2});
  REQUIRE_THROWS_AS(categorical_cross_entropy(A, Y), ShapeError);
  REQUIRE_THROWS_WITH(categorical_cross_entropy(A, Y),
                      Catch::Contains("A (3x2)") && Catch::Contains("Y (2x2)"));
}

TEST_CASE("class numbers against K output units: the shape error says to give the labels one-hot", "[ops]") {
  Graph g;
  auto A = g.input("A", {3, 4});
  auto Y = g.input("Y", {1, 4});  // class numbers 0..2 in one row
  REQUIRE_THROWS_WITH(categorical_cross_entropy(A, Y),
                      Catch::Contains("A (3x4)") && Catch::Contains("one-hot") && Catch::Contains("{3, m}"));
  auto Y2 = g.input("Y2", {2, 4});  // another mismatch: no such hint
  REQUIRE_THROWS_WITH(categorical_cross_entropy(A, Y2), !Catch::Contains("one-hot"));
}
