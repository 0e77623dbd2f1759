#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("square at points worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {1, 4}, {-3.0, 0.5, 0.0, 12.0});
  auto Y = square(X);
  CHECK(Y.node().op == OpKind::square);
  check_values<TestType>(h.run(Y), {9.0, 0.25, 0.0, 144.0});
}
