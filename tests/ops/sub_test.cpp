#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("sub: a row subtracted from every row, worked by hand", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  auto A = h.input("A", {2, 3}, {1, 2, 3, 4, 5, 6});
  auto r = h.input("r", {1, 3}, {1, 1, 2});
  check_values<TestType>(h.run(A - r), {0, 1, 1, 3, 4, 4});
}

TEMPLATE_TEST_CASE("sub broadcasts every pattern on either side", "[ops]", float, double) {
  check_broadcast_patterns<TestType>(OpKind::sub, [](Expr x, Expr y) { return x - y; },
                                     [](double x, double y) { return x - y; });
}

TEST_CASE("sub of shapes that do not broadcast is a shape error", "[ops]") {
  check_broadcast_error("sub", [](Expr x, Expr y) { return x - y; });
}
