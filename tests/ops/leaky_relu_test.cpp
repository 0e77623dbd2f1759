#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("leaky relu with the default slope 0.01", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto Z = h.input("Z", {1, 4}, {-2.0, 0.0, 3.0, -100.0});
  auto A = leaky_relu(Z);
  CHECK(A.node().template attr<SlopeAttrs>().slope == 0.01);
  check_values<TestType>(h.run(A), {-0.02, 0.0, 3.0, -1.0});
}

TEMPLATE_TEST_CASE("leaky relu with a custom slope", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto Z = h.input("Z", {1, 4}, {-2.0, 0.0, 3.0, -100.0});
  // slope 0.2: -2 -> -0.4, -100 -> -20; positive values pass unchanged.
  check_values<TestType>(h.run(leaky_relu(Z, 0.2)), {-0.4, 0.0, 3.0, -20.0});
}
