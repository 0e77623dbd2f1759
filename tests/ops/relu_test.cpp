#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("relu is max(0, z)", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto Z = h.input("Z", {2, 3}, {-2.0, 0.0, 3.0, -0.5, 0.25, 7.0});
  auto A = relu(Z);
  CHECK(A.node().op == OpKind::relu);
  check_values<TestType>(h.run(A), {0.0, 0.0, 3.0, 0.0, 0.25, 7.0});
}
