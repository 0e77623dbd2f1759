#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("cross-entropy of sigmoid(Z) is computed from Z, worked by hand", "[ops]",
                   float, double) {
  OpHarness<TestType> h;
  // sigmoid(ln 9) = 9/10, sigmoid(ln 1/4) = 1/5, sigmoid(ln 3/2) = 3/5.
  auto Z = h.input("Z", {1, 3}, {std::log(9.0), std::log(0.25), std::log(1.5)});
  auto Y = h.input("Y", {1, 3}, {1, 0, 1});
  auto J = binary_cross_entropy(sigmoid(Z), Y);
  REQUIRE(J.node().op == OpKind::bce_logits);
  CHECK(J.node().inputs[0] == Z.id);
  const double by_hand = -(std::log(0.9) + std::log(1 - 0.2) + std::log(0.6)) / 3.0;
  check_values<TestType>(h.run(J), {by_hand}, std::is_same_v<TestType, float> ? 1e-6 : 1e-12);
}

TEMPLATE_TEST_CASE("bce_logits stays finite where the naive form takes log(0)", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  // Wrong with full confidence: z = 800 for y = 0 and z = -800 for y = 1.
  // Per sample the cost is max(z,0) - z y + log(1 + e^-|z|) = 800 + 0.
  auto Z = h.input("Z", {1, 4}, {800, -800, 800, -800});
  auto wrong = h.input("Yw", {1, 4}, {0, 1, 0, 1});
  auto right = h.input("Yr", {1, 4}, {1, 0, 1, 0});
  auto Jw = binary_cross_entropy(sigmoid(Z), wrong);
  auto Jr = binary_cross_entropy(sigmoid(Z), right);
  const auto v = h.run({Jw, Jr});
  CHECK(std::isfinite(v[0][0]));
  CHECK(v[0][0] == approx<TestType>(800.0));
  CHECK(v[1][0] == approx<TestType>(0.0));
  // The naive -(y log a + (1-y) log(1-a)) with a = sigmoid(800) = 1 in double.
  const double a = 1.0 / (1.0 + std::exp(-800.0));
  CHECK_FALSE(std::isfinite(-std::log(1.0 - a)));
}

TEMPLATE_TEST_CASE("bce_logits refuses labels that are not 0 or 1", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto Z = h.input("Z", {1, 2}, {0.0, 1.0});
  auto Y = h.input("Y", {1, 2}, {1, 2});
  auto J = binary_cross_entropy(sigmoid(Z), Y).named("cost");
  REQUIRE_THROWS_AS(h.run(J), InputError);
  REQUIRE_THROWS_WITH(h.run(J), Catch::Contains("cost") && Catch::Contains("Y(0, 1)"));
}
