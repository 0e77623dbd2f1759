#include <cmath>

#include "tests/ops/op_test_util.hpp"

using namespace dagrad;
using namespace dagrad::test;

namespace {

// A (rows x cols) of distinct values 1, 2, 3, ...
std::vector<double> counting(Shape s) {
  std::vector<double> v(static_cast<std::size_t>(s.size()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(i + 1);
  return v;
}

}  // namespace

TEMPLATE_TEST_CASE("dropout mask keeps a fraction keep_prob of units", "[ops]", float, double) {
  OpHarness<TestType> h;
  const Shape s{200, 500};
  const double kp = 0.8;
  auto D = dropout_mask(h.g, s, kp, 42);
  CHECK(D.shape() == s);
  const auto d = h.run(D);
  double kept = 0;
  for (double v : d) {
    REQUIRE((v == 0.0 || v == 1.0));
    kept += v;
  }
  // D(i) ~ Bernoulli(kp): the mean has standard error sqrt(kp (1-kp) / n) =
  // sqrt(0.16 / 1e5) = 0.00126; allow 5 standard errors.
  const double n = double(s.size()), se = std::sqrt(kp * (1 - kp) / n);
  CHECK(std::abs(kept / n - kp) < 5 * se);
}

TEMPLATE_TEST_CASE("dropout output is A * D / keep_prob element by element", "[ops]", float,
                   double) {
  OpHarness<TestType> h;
  const Shape s{8, 25};
  const double kp = 0.6;
  const auto a = counting(s);
  auto A = h.input("A", s, a);
  auto D = dropout_mask(h.g, s, kp, 7);
  auto out = dropout(A, D);
  CHECK(out.node().op == OpKind::dropout);
  const auto v = h.run({out, D});
  std::vector<double> expected;
  for (std::size_t i = 0; i < a.size(); ++i) expected.push_back(a[i] * v[1][i] / kp);
  check_values<TestType>(v[0], expected);
  // Not all kept and not all dropped, or the check above would prove little.
  double kept = 0;
  for (double x : v[1]) kept += x;
  CHECK(kept > 0);
  CHECK(kept < double(s.size()));
}

TEMPLATE_TEST_CASE("dropout is the identity in inference mode", "[ops]", float, double) {
  OpHarness<TestType> h;
  const Shape s{4, 10};
  const auto a = counting(s);
  auto A = h.input("A", s, a);
  auto D = dropout_mask(h.g, s, 0.5, 3);
  auto out = dropout(A, D);
  runtime::RunOptions inference;
  inference.training = false;
  const auto v = h.run({out, D}, inference);
  check_values<TestType>(v[0], a);
  check_values<TestType>(v[1], std::vector<double>(a.size(), 1.0));
}

TEMPLATE_TEST_CASE("dropout masks repeat for the same (seed, step) and change with the step",
                   "[ops]", float, double) {
  OpHarness<TestType> h;
  const Shape s{10, 50};
  auto D = dropout_mask(h.g, s, 0.5, 11);
  auto other_seed = dropout_mask(h.g, s, 0.5, 12);
  auto at = [&](std::uint64_t step) {
    runtime::RunOptions o;
    o.step = step;
    return h.run({D, other_seed}, o);
  };
  const auto a = at(3), b = at(3), c = at(4);
  CHECK(a[0] == b[0]);
  CHECK(a[1] == b[1]);
  // 500 fair coins agree everywhere with probability 2^-500.
  CHECK(a[0] != c[0]);
  CHECK(a[0] != a[1]);
}

TEMPLATE_TEST_CASE("keep_prob = 1 keeps everything", "[ops]", float, double) {
  OpHarness<TestType> h;
  const Shape s{3, 3};
  const auto a = counting(s);
  auto A = h.input("A", s, a);
  check_values<TestType>(h.run(dropout(A, 1.0, 5)), a);
}

TEST_CASE("dropout with a mask of another shape names both operands", "[ops]") {
  Graph g;
  auto A1 = g.input("A1", {4, 10});
  auto D1 = dropout_mask(g, {10, 4}, 0.5, 1).named("D1");
  REQUIRE_THROWS_AS(dropout(A1, D1), ShapeError);
  REQUIRE_THROWS_WITH(dropout(A1, D1), Catch::Contains("dropout") &&
                                           Catch::Contains("A1 (4x10)") &&
                                           Catch::Contains("D1 (10x4)"));
}

TEST_CASE("keep_prob outside 0 < p <= 1 is refused", "[ops]") {
  Graph g;
  auto A1 = g.input("A1", {4, 10});
  for (double kp : {0.0, -0.5, 1.5, std::nan("")}) {
    INFO("keep_prob " << kp);
    REQUIRE_THROWS_AS(dropout_mask(g, {4, 10}, kp, 1), ShapeError);
    REQUIRE_THROWS_AS(dropout(A1, kp, 1), ShapeError);
  }
  REQUIRE_THROWS_WITH(dropout(A1, 1.5, 1), Catch::Contains("keep_prob 1.5"));
}
