// Limits: deep graphs must not overflow the stack (no recursion on depth),
// and impossible sizes are refused before anything is allocated.
#include <catch2/catch.hpp>

#include <cmath>

#include "dagrad/dagrad.hpp"

using namespace dagrad;

TEST_CASE("a chain of 100,000 nodes builds, differentiates and runs", "[graph][limits]") {
  Graph g;
  auto x = g.param("x", {1, 1});
  Expr h = x;
  // sqrt(square(h)) = h for h > 0, with derivative (2h) / (2 sqrt(h^2)) = 1:
  // 2 * 50,000 nodes whose value and derivative stay measurable.
  for (int i = 0; i < 50'000; ++i) h = sqrt(square(h));
  auto J = sum(h).named("J");
  REQUIRE(g.size() >= 100'000);
  auto dx = gradients(J, {x});
  REQUIRE(g.size() >= 200'000);

  runtime::Executor exec(g, {J.id, dx[0].id});
  double x0 = 0.1;
  exec.bind(x.id, &x0, {1, 1});
  exec.run();

  // Independent: the same recurrence and its chain rule, in plain loops.
  double v = x0, d = 1.0;
  for (int i = 0; i < 50'000; ++i) {
    const double s = v * v, r = std::sqrt(s);
    d *= (2.0 * v) / (2.0 * r);
    v = r;
  }
  CHECK(exec.scalar(J.id) == Approx(v).epsilon(1e-12));
  CHECK(exec.scalar(J.id) == Approx(x0).epsilon(1e-9));
  CHECK(exec.values<double>(dx[0].id)[0] == Approx(d).epsilon(1e-12));
  CHECK(exec.values<double>(dx[0].id)[0] == Approx(1.0).epsilon(1e-9));
}

TEST_CASE("a shape whose byte count would overflow is refused before allocation", "[graph][limits]") {
  Graph g;
  REQUIRE_THROWS_AS(g.input("X", {std::int64_t{1} << 40, std::int64_t{1} << 30}), ShapeError);
  REQUIRE_THROWS_WITH(g.param("W", {std::int64_t{1} << 62, 4}),
                      Catch::Contains("(4611686018427387904x4)"));
  REQUIRE_THROWS_AS(g.input("Z", {0, 3}), ShapeError);
}
