#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

TEMPLATE_TEST_CASE("transpose swaps rows and columns", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {2, 3}, {1, 2, 3, 4, 5, 6});
  auto Y = transpose(X);
  CHECK(Y.node().op == OpKind::transpose);
  CHECK(Y.shape() == Shape{3, 2});
  CHECK(transpose(Y).id == X.id);  // (x^T)^T = x without a node
  check_values<TestType>(h.run(Y), {1, 4, 2, 5, 3, 6});
}

TEMPLATE_TEST_CASE("transpose of a row is a column", "[ops]", float, double) {
  OpHarness<TestType> h;
  auto X = h.input("X", {1, 4}, {1, 2, 3, 4});
  auto Y = transpose(X);
  CHECK(Y.shape() == Shape{4, 1});
  check_values<TestType>(h.run(Y), {1, 2, 3, 4});
}
