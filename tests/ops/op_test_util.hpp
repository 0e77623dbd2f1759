// Shared by the per-op tests: a graph in one dtype (float or double, picked by
// TEMPLATE_TEST_CASE) whose inputs are fed from plain double vectors, run
// once, and read back as doubles. Expected numbers are always computed in
// the test itself, by hand or with plain loops, never taken from a run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::test {

// Restores the process-wide GEMM mode and thread count a test changed.
struct GemmModeGuard {
  ops::GemmMode mode = ops::gemm_mode();
  int threads = runtime::threads();
  ~GemmModeGuard() {
    ops::set_gemm_mode(mode);
    runtime::set_threads(threads);
  }
};

// n values uniform in [-1, 1), the same for the same seed.
inline std::vector<double> random_values(std::int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) x = u(rng);
  return v;
}

template <class T>
constexpr DType dtype_of = std::is_same_v<T, float> ? DType::f32 : DType::f64;

// Relative tolerance for one dtype: a few ulps of float, tight for double.
template <class T>
constexpr double eps_of = std::is_same_v<T, float> ? 2e-6 : 1e-13;

template <class T>
Approx approx(double expected, double eps = eps_of<T>) {
  return Approx(expected).epsilon(eps).margin(eps);
}

template <class T>
class OpHarness {
 public:
  Graph g{dtype_of<T>};

  // An input node fed with `values` (row-major, shape.size() entries).
  Expr input(std::string name, Shape shape, const std::vector<double>& values) {
    REQUIRE(values.size() == static_cast<std::size_t>(shape.size()));
    Expr x = g.input(std::move(name), shape);
    data_.emplace_back(values.begin(), values.end());
    feeds_.push_back({x.id, shape});
    return x;
  }

  // Runs a plan whose outputs are `ys` and returns each output's values.
  std::vector<std::vector<double>> run(const std::vector<Expr>& ys,
                                       runtime::RunOptions options = {}) {
    std::vector<NodeId> ids;
    for (Expr y : ys) ids.push_back(y.id);
    runtime::Executor exec(g, ids);
    bind_all(exec, ids);
    exec.run(options);
    std::vector<std::vector<double>> out;
    for (Expr y : ys) {
      auto v = exec.values<T>(y.id);
      out.emplace_back(v.begin(), v.end());
    }
    return out;
  }

  std::vector<double> run(Expr y, runtime::RunOptions options = {}) {
    return run(std::vector<Expr>{y}, options)[0];
  }

  // Binds every fed input that the plan schedules.
  void bind_all(runtime::Executor& exec, const std::vector<NodeId>& outputs) {
    const auto schedule = g.schedule(outputs);
    for (std::size_t k = 0; k < feeds_.size(); ++k)
      if (std::find(schedule.begin(), schedule.end(), feeds_[k].first) != schedule.end())
        exec.bind(feeds_[k].first, data_[k].data(), feeds_[k].second);
  }

 private:
  std::deque<std::vector<T>> data_;  // deque: pointers stay valid as it grows
  std::vector<std::pair<NodeId, Shape>> feeds_;
};

// Element-by-element comparison that reports the failing index.
template <class T>
void check_values(const std::vector<double>& got, const std::vector<double>& expected,
                  double eps = eps_of<T>) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == approx<T>(expected[i], eps));
  }
}

// x(i, j) of a row-major matrix of `shape` under 2-D numpy broadcasting: a
// dimension of size 1 is repeated.
inline double broadcast_at(const std::vector<double>& x, Shape shape, std::int64_t i,
                           std::int64_t j) {
  const std::int64_t r = shape.rows == 1 ? 0 : i, c = shape.cols == 1 ? 0 : j;
  return x[static_cast<std::size_t>(r * shape.cols + c)];
}

// Runs `op` on a (2x3) matrix against each broadcastable partner, (2x1),
// (1x3), (1x1) and (2x3), on either side, plus the outer pattern (2x1) with
// (1x3), and compares with `f` applied element by element in a plain loop.
template <class T, class Op, class F>
void check_broadcast_patterns(OpKind kind, Op op, F f) {
  const Shape full{2, 3};
  const std::vector<std::pair<Shape, std::vector<double>>> partners{
      {{2, 1}, {10, 20}}, {{1, 3}, {100, 200, 300}}, {{1, 1}, {2}}, {{2, 3}, {7, 8, 9, 10, 11, 12}}};
  const std::vector<double> a{1, 2, 3, 4, 5, 6};
  auto expect = [&](const std::vector<double>& x, Shape xs, const std::vector<double>& y,
                    Shape ys) {
    std::vector<double> out;
    for (std::int64_t i = 0; i < full.rows; ++i)
      for (std::int64_t j = 0; j < full.cols; ++j)
        out.push_back(f(broadcast_at(x, xs, i, j), broadcast_at(y, ys, i, j)));
    return out;
  };
  for (const auto& [shape, values] : partners) {
    INFO("partner shape " << to_string(shape));
    OpHarness<T> h;
    auto A = h.input("A", full, a);
    auto B = h.input("B", shape, values);
    auto left = op(A, B), right = op(B, A);
    CHECK(left.node().op == kind);
    CHECK(right.node().op == kind);
    CHECK(left.shape() == full);
    CHECK(right.shape() == full);
    const auto v = h.run({left, right});
    check_values<T>(v[0], expect(a, full, values, shape));
    check_values<T>(v[1], expect(values, shape, a, full));
  }
  OpHarness<T> h;
  auto C = h.input("C", {2, 1}, {1, 2});
  auto R = h.input("R", {1, 3}, {3, 4, 5});
  auto outer = op(C, R);
  REQUIRE(outer.shape() == full);
  check_values<T>(h.run(outer), expect({1, 2}, {2, 1}, {3, 4, 5}, {1, 3}));
}

// `op` on shapes that do not broadcast names the op, both operands and shapes.
template <class Op>
void check_broadcast_error(std::string_view op_name, Op op) {
  Graph g;
  auto A = g.input("A", {2, 3});
  auto B = g.input("B", {3, 2});
  auto C = g.input("C", {2, 2});
  REQUIRE_THROWS_AS(op(A, B), ShapeError);
  REQUIRE_THROWS_WITH(op(A, B), Catch::Contains(std::string(op_name) + " A (2x3), B (3x2)") &&
                                    Catch::Contains("rows 2 != 3"));
  REQUIRE_THROWS_WITH(op(C, A), Catch::Contains(std::string(op_name) + " C (2x2), A (2x3)") &&
                                    Catch::Contains("columns 2 != 3"));
}

}  // namespace dagrad::test
