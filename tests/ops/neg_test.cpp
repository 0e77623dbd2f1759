#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("neg flips every sign", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {2, 2}, {1.5, -2.0, 0.0, 4.0});
  auto Y = -X;
  CHECK(Y.node().op == OpKind::neg);
  check_values<TestType>(h.run(Y), {-1.5, 2.0, 0.0, -4.0});
}
