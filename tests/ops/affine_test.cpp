#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("scalar arithmetic is one affine node: 2x, x+1, 1-x, x/m", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  const std::vector<double> x{1.0, -2.0, 0.5, 3.0};
  auto X = h.input("X", {2, 2}, x);
  auto twice = 2.0 * X;
  auto plus_one = X + 1.0;
  auto one_minus = 1.0 - X;
  auto over_m = X / 4.0;
  auto scale_offset = affine(X, 3.0, -1.0);
  for (Expr e : {twice, plus_one, one_minus, over_m, scale_offset})
    CHECK(e.node().op == OpKind::affine);
  CHECK(one_minus.node().template attr<AffineAttrs>().scale == Scale(-1.0));
  CHECK(one_minus.node().template attr<AffineAttrs>().offset == 1.0);
  const auto v = h.run({twice, plus_one, one_minus, over_m, scale_offset});
  std::vector<double> e0, e1, e2, e3, e4;
  for (double xi : x) {
    e0.push_back(2 * xi);
    e1.push_back(xi + 1);
    e2.push_back(1 - xi);
    e3.push_back(xi / 4);
    e4.push_back(3 * xi - 1);
  }
  check_values<TestType>(v[0], e0);
  check_values<TestType>(v[1], e1);
  check_values<TestType>(v[2], e2);
  check_values<TestType>(v[3], e3);
  check_values<TestType>(v[4], e4);
}
