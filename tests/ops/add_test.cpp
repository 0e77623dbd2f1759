#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("add: b broadcast over columns, worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto Z = h.input("WX", {2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = h.input("b", {2, 1}, {10, 20});
  check_values<TestType>(h.run(Z + b), {11, 12, 13, 24, 25, 26});
}

TEMPLATE_TEST_CASE("add broadcasts every pattern on either side", "[ops]", float, double) {
  check_broadcast_patterns<TestType>(OpKind::add, [](Expr x, Expr y) { return x + y; },
                                     [](double x, double y) { return x + y; });
}

TEST_CASE("add of shapes that do not broadcast is a shape error", "[ops]") {
  check_broadcast_error("add", [](Expr x, Expr y) { return x + y; });
}
