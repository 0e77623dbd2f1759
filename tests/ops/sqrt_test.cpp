#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("sqrt at points worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {1, 4}, {4.0, 2.25, 0.0, 2.0});
  auto Y = sqrt(X);
  CHECK(Y.node().op == OpKind::sqrt);
  check_values<TestType>(h.run(Y), {2.0, 1.5, 0.0, 1.4142135623730951});
}
