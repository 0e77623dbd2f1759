#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("broadcast repeats a column, a row or a scalar", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto c = h.input("c", {2, 1}, {1, 2});
  auto r = h.input("r", {1, 3}, {3, 4, 5});
  auto s = h.input("s", {1, 1}, {7});
  const Shape to{2, 3};
  auto bc = broadcast(c, to), br = broadcast(r, to), bs = broadcast(s, to);
  for (Expr e : {bc, br, bs}) {
    CHECK(e.node().op == OpKind::broadcast);
    CHECK(e.shape() == to);
  }
  CHECK(broadcast(c, {2, 1}).id == c.id);  // to its own shape: no node
  const auto v = h.run({bc, br, bs});
  check_values<TestType>(v[0], {1, 1, 1, 2, 2, 2});
  check_values<TestType>(v[1], {3, 4, 5, 3, 4, 5});
  check_values<TestType>(v[2], {7, 7, 7, 7, 7, 7});
}

TEST_CASE("broadcast to a shape that does not fit is a shape error", "[ops]") {
  Graph g;
  auto c = g.input("c", {2, 1});
  REQUIRE_THROWS_AS(broadcast(c, {3, 3}), ShapeError);
  REQUIRE_THROWS_WITH(broadcast(c, {3, 3}), "broadcast c (2x1): cannot broadcast to (3x3)");
}
