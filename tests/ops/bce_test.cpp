#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("binary cross-entropy of a plain A, worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto A = h.input("A", {1, 3}, {0.9, 0.2, 0.6});
  auto Y = h.input("Y", {1, 3}, {1, 0, 1});
  auto J = binary_cross_entropy(A, Y);
  CHECK(J.node().op == OpKind::bce);  // A is not a sigmoid: the unfused cost
  CHECK(J.shape() == Shape{1, 1});
  // J = -(1/3) (1 log 0.9 + (1 - 0) log(1 - 0.2) + 1 log 0.6)
  //   = -(1/3) (-0.1053605 - 0.2231436 - 0.5108256) = 0.2797766
  const double by_hand = -(std::log(0.9) + std::log(0.8) + std::log(0.6)) / 3.0;
  CHECK(by_hand == Approx(0.2797766).epsilon(1e-6));
  check_values<TestType>(h.run(J), {by_hand}, std::is_same_v<TestType, float> ? 1e-6 : 1e-12);
}

TEMPLATE_TEST_CASE("binary cross-entropy sums over every sample, m = 2", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  auto A = h.input("A", {1, 2}, {0.5, 0.25});
  auto Y = h.input("Y", {1, 2}, {0, 0});
  // -(1/2) (log 0.5 + log 0.75) = (log 2 + log 4/3) / 2 = log(8/3) / 2
  check_values<TestType>(h.run(binary_cross_entropy(A, Y)), {std::log(8.0 / 3.0) / 2.0});
}

TEMPLATE_TEST_CASE("labels that are not 0 or 1 are an input error naming node and element",
                   "[ops]", float, double) {
  OpHarness<TestType> h;
  auto A = h.input("A", {1, 3}, {0.9, 0.2, 0.6});
  auto Y = h.input("Y", {1, 3}, {1, 0.5, 0});
  auto J = binary_cross_entropy(A, Y).named("J");
  REQUIRE_THROWS_AS(h.run(J), InputError);
  REQUIRE_THROWS_WITH(h.run(J), Catch::Contains("J") && Catch::Contains("Y(0, 1)") &&
                                    Catch::Contains("0.5"));
}

TEST_CASE("binary cross-entropy with mismatched shapes names both operands", "[ops]") {
  Graph g;
  auto A = g.input("A2", {1, 3});
  auto Y = g.input("Y", {1, 4});
  REQUIRE_THROWS_AS(binary_cross_entropy(A, Y), ShapeError);
  REQUIRE_THROWS_WITH(binary_cross_entropy(A, Y),
                      Catch::Contains("binary_cross_entropy") && Catch::Contains("A2 (1x3)") &&
                          Catch::Contains("Y (1x4)"));
  auto Z = g.input("Z2", {2, 3});
  REQUIRE_THROWS_WITH(binary_cross_entropy(sigmoid(Z), Y),
                      Catch::Contains("Z2 (2x3)") && Catch::Contains("Y (1x4)"));
}
