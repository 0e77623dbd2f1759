#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("softmax per column, worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  // Column 0: e^[0, ln 2, ln 3] = [1, 2, 3] -> [1/6, 1/3, 1/2]. Column 1: equal logits.
  auto Z = h.input("Z", {3, 2}, {0, 5, std::log(2.0), 5, std::log(3.0), 5});
  auto A = softmax(Z);
  CHECK(A.shape() == Shape{3, 2});
  const auto a = h.run(A);
  check_values<TestType>(a, {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0.5, 1.0 / 3}, eps_of<TestType>);
  for (int j = 0; j < 2; ++j) CHECK(a[j] + a[2 + j] + a[4 + j] == approx<TestType>(1.0));
}

TEMPLATE_TEST_CASE("softmax of large logits is finite and exact", "[ops]", float, double) {
  OpHarness<TestType> h;
  // [1000, 1001, 999]: e^1000 overflows, but softmax is shift-invariant so it
  // equals softmax([0, 1, -1]) = [1, e, 1/e] / (1 + e + 1/e).
  auto Z = h.input("Z", {3, 1}, {1000, 1001, 999});
  const double e = std::exp(1.0), total = 1 + e + 1 / e;
  const auto a = h.run(softmax(Z));
  for (double v : a) CHECK(std::isfinite(v));
  check_values<TestType>(a, {1 / total, e / total, 1 / e / total}, eps_of<TestType>);
}
