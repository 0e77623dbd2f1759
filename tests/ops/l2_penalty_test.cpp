#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("L2 penalty lambda/(2m) sum ||W||_F^2, worked by hand", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  auto W1 = h.input("W1", {2, 2}, {1, 2, 3, 4});  // ||W1||^2 = 1 + 4 + 9 + 16 = 30
  auto W2 = h.input("W2", {1, 2}, {0.5, -1});     // ||W2||^2 = 0.25 + 1 = 1.25
  auto P = l2_penalty({W1, W2}, 0.7, 5);
  CHECK(P.node().op == OpKind::l2_penalty);
  CHECK(P.shape() == Shape{1, 1});
  // 0.7 / (2 * 5) * 31.25 = 0.07 * 31.25 = 2.1875
  check_values<TestType>(h.run(P), {2.1875});
}

TEST_CASE("L2 penalty refuses no weights and m <= 0", "[ops]") {
  Graph g;
  auto W = g.param("W1", {2, 2});
  REQUIRE_THROWS_AS(l2_penalty(std::span<const Expr>{}, 0.1, 5), GraphError);
  REQUIRE_THROWS_WITH(l2_penalty({W}, 0.1, 0), Catch::Contains("m = 0"));
}
