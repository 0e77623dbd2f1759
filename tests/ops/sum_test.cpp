#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

// x = [1 2 3; 4 5 6]: all 21; over rows (axis 0) [5 7 9]; over columns
// (axis 1) [6; 15]. Means divide by 6, 2 and 3.
namespace {
const std::vector<double> x{1, 2, 3, 4, 5, 6};
}

TEMPLATE_TEST_CASE("sum over all elements, rows and columns, by hand", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {2, 3}, x);
  auto all = sum(X);
  auto rows = sum(X, 0);
  auto cols = sum(X, 1);
  auto rows_flat = sum(X, 0, false);
  auto cols_flat = sum(X, 1, false);
  CHECK(all.shape() == Shape{1, 1});
  CHECK(rows.shape() == Shape{1, 3});
  CHECK(cols.shape() == Shape{2, 1});
  CHECK(rows_flat.shape() == Shape{1, 3});
  CHECK(cols_flat.shape() == Shape{1, 2});  // numpy's 1-D result, read as a row
  const auto v = h.run({all, rows, cols, rows_flat, cols_flat});
  check_values<TestType>(v[0], {21});
  check_values<TestType>(v[1], {5, 7, 9});
  check_values<TestType>(v[2], {6, 15});
  check_values<TestType>(v[3], {5, 7, 9});
  check_values<TestType>(v[4], {6, 15});
}

TEMPLATE_TEST_CASE("mean over all elements, rows and columns, by hand", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {2, 3}, x);
  auto all = mean(X);
  auto rows = mean(X, 0);
  auto cols = mean(X, 1);
  auto cols_flat = mean(X, 1, false);
  // A mean is one sum node whose scale is 1/count.
  CHECK(all.node().op == OpKind::sum);
  CHECK(all.node().template attr<SumAttrs>().scale.value == Approx(1.0 / 6));
  CHECK(cols_flat.shape() == Shape{1, 2});
  const auto v = h.run({all, rows, cols, cols_flat});
  check_values<TestType>(v[0], {3.5});
  check_values<TestType>(v[1], {2.5, 3.5, 4.5});
  check_values<TestType>(v[2], {2, 5});
  check_values<TestType>(v[3], {2, 5});
}

TEMPLATE_TEST_CASE("a scaled sum keeps the scale on the reduction", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {2, 3}, x);
  auto db = sum(0.5 * X, 1);  // the notes' db = 1/m sum(dZ, axis=1) with m = 2
  CHECK(db.node().op == OpKind::sum);
  CHECK(db.node().inputs[0] == X.id);
  check_values<TestType>(h.run(db), {3, 7.5});
}

TEST_CASE("sum with a bad axis names the op, the operand and its shape", "[ops]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  for (int axis : {2, -2, 300}) {
    INFO("axis " << axis);
    REQUIRE_THROWS_AS(sum(X, axis), ShapeError);
    REQUIRE_THROWS_WITH(sum(X, axis), Catch::Contains("sum") && Catch::Contains("X (2x3)") &&
                                          Catch::Contains("axis " + std::to_string(axis)));
    REQUIRE_THROWS_AS(mean(X, axis), ShapeError);
  }
  // The shape rule itself refuses a bad axis in a node built without the DSL.
  SumAttrs attrs;
  attrs.axis = 5;
  REQUIRE_THROWS_WITH(g.add(OpKind::sum, {X.id}, attrs), "sum X (2x3): axis 5 is not -1, 0 or 1");
}
