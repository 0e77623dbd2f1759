#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("softmax + categorical cross-entropy, worked by hand", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  // softmax columns [1/6, 1/3, 1/2] and [1/3, 1/3, 1/3]; classes 2 and 0:
  // J = -(1/2) (log 1/2 + log 1/3) = log 6 / 2.
  auto Z = h.input("Z", {3, 2}, {0, 5, std::log(2.0), 5, std::log(3.0), 5});
  auto Y = h.input("Y", {3, 2}, {0, 1, 0, 0, 1, 0});
  auto J = categorical_cross_entropy(softmax(Z), Y);
  REQUIRE(J.node().op == OpKind::softmax_ce);
  CHECK(J.node().inputs[0] == Z.id);
  check_values<TestType>(h.run(J), {std::log(6.0) / 2}, eps_of<TestType>);
}

TEMPLATE_TEST_CASE("softmax cross-entropy of large logits stays finite", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  // Class 1 while z = [1000, 0, 0]: J = -(0 - log(e^1000 + 2)) = 1000 + log(1 + 2e^-1000).
  auto Z = h.input("Z", {3, 1}, {1000, 0, 0});
  auto Y = h.input("Y", {3, 1}, {0, 1, 0});
  const auto j = h.run(categorical_cross_entropy(softmax(Z), Y));
  CHECK(std::isfinite(j[0]));
  CHECK(j[0] == approx<TestType>(1000.0));
}

TEMPLATE_TEST_CASE("softmax cross-entropy refuses labels that are not one-hot", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  auto Z = h.input("Z", {2, 2}, {0, 0, 0, 0});
  auto Y = h.input("Y", {2, 2}, {1, 1, 1, 0});
  auto J = categorical_cross_entropy(softmax(Z), Y).named("J");
  REQUIRE_THROWS_AS(h.run(J), InputError);
  REQUIRE_THROWS_WITH(h.run(J), Catch::Contains("J") && Catch::Contains("column 0"));
}
