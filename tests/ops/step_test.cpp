#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("step is 1 for z > 0 and the slope elsewhere", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto Z = h.input("Z", {1, 4}, {-2.0, 0.0, 3.0, 1e-3});
  auto relu_mask = step(Z);
  auto leaky_mask = step(Z, 0.01);
  const auto v = h.run({relu_mask, leaky_mask});
  // NOTE: z = 0 takes the left value, the same convention as relu's derivative.
  check_values<TestType>(v[0], {0.0, 0.0, 1.0, 1.0});
  check_values<TestType>(v[1], {0.01, 0.01, 1.0, 1.0});
}
