#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("div: each column divided by a per-row scale, by hand", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  auto A = h.input("A", {2, 3}, {1, 2, 3, 4, 5, 6});
  auto s = h.input("s", {2, 1}, {2, 4});
  check_values<TestType>(h.run(A / s), {0.5, 1, 1.5, 1, 1.25, 1.5});
}

TEMPLATE_TEST_CASE("div broadcasts every pattern on either side", "[ops]", float, double) {
  check_broadcast_patterns<TestType>(OpKind::div, [](Expr x, Expr y) { return x / y; },
                                     [](double x, double y) { return x / y; });
}

TEST_CASE("div of shapes that do not broadcast is a shape error", "[ops]") {
  check_broadcast_error("div", [](Expr x, Expr y) { return x / y; });
}
