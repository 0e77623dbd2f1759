#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("log at points worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {1, 4}, {1.0, 2.718281828459045, 8.0, 0.5});
  auto Y = log(X);
  CHECK(Y.node().op == OpKind::log);
  // log 8 = 3 log 2, log 1/2 = -log 2, log 2 = 0.6931471805599453.
  check_values<TestType>(h.run(Y), {0.0, 1.0, 3 * 0.6931471805599453, -0.6931471805599453});
}
