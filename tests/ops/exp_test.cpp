#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("exp at points worked by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {1, 4}, {0.0, 1.0, std::log(5.0), -std::log(4.0)});
  auto Y = exp(X);
  CHECK(Y.node().op == OpKind::exp);
  check_values<TestType>(h.run(Y), {1.0, 2.718281828459045, 5.0, 0.25});
}
