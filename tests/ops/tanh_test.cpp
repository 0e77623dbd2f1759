#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("tanh at points worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  // tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 3/5; tanh(ln 3) = (3 - 1/3) / (3 + 1/3) = 4/5.
  auto Z = h.input("Z", {2, 2}, {0.0, std::log(2.0), -std::log(2.0), std::log(3.0)});
  auto A = tanh(Z);
  CHECK(A.node().op == OpKind::tanh);
  check_values<TestType>(h.run(A), {0.0, 0.6, -0.6, 0.8});
}

TEMPLATE_TEST_CASE("tanh saturates to -1 and 1", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto Z = h.input("Z", {1, 2}, {-400.0, 400.0});
  check_values<TestType>(h.run(tanh(Z)), {-1.0, 1.0});
}
