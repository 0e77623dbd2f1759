#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("sigmoid at points worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  // sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4, sigmoid(-ln 3) = 1 / (1 + 3) = 1/4.
  auto Z = h.input("Z", {1, 4}, {0.0, std::log(3.0), -std::log(3.0), 2.0});
  auto A = sigmoid(Z);
  CHECK(A.node().op == OpKind::sigmoid);
  CHECK(A.shape() == Shape{1, 4});
  check_values<TestType>(h.run(A), {0.5, 0.75, 0.25, 1.0 / (1.0 + std::exp(-2.0))});
}

TEMPLATE_TEST_CASE("sigmoid saturates to 0 and 1 without NaN", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto Z = h.input("Z", {2, 1}, {-800.0, 800.0});
  const auto a = h.run(sigmoid(Z));
  CHECK(a[0] == 0.0);
  CHECK(a[1] == 1.0);
}
