#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("mul is element-wise, not the matrix product", "[ops]", float, double) {
  OpHarness<TestType> h;
  // On square shapes a matmul would also fit: [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50].
  auto A = h.input("A", {2, 2}, {1, 2, 3, 4});
  auto B = h.input("B", {2, 2}, {5, 6, 7, 8});
  check_values<TestType>(h.run(mul(A, B)), {5, 12, 21, 32});
}

TEMPLATE_TEST_CASE("mul broadcasts every pattern on either side", "[ops]", float, double) {
  check_broadcast_patterns<TestType>(OpKind::mul, [](Expr x, Expr y) { return mul(x, y); },
                                     [](double x, double y) { return x * y; });
}

TEST_CASE("mul of shapes that do not broadcast is a shape error", "[ops]") {
  check_broadcast_error("mul", [](Expr x, Expr y) { return mul(x, y); });
}
