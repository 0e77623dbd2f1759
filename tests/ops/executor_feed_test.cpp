// How the executor treats feeds: wrong shapes and dtypes, missing bindings
// and values that are not in the plan each get an error naming the node.
#include <vector>

#include <catch2/catch.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/runtime/executor.hpp"

using namespace dagrad;

TEST_CASE("feeding a wrong shape names the node and both shapes", "[runtime]") {
  Graph g(DType::f64);
  auto X = g.input("X", {3, 4});
  auto A = tanh(X);
  runtime::Executor exec(g, {A.id});
  std::vector<double> x(12, 0.0);
  REQUIRE_THROWS_AS(exec.bind(X.id, x.data(), Shape{4, 3}), InputError);
  REQUIRE_THROWS_WITH(exec.bind(X.id, x.data(), Shape{4, 3}),
                      Catch::Contains("X") && Catch::Contains("(4x3)") &&
                          Catch::Contains("(3x4)"));
  REQUIRE_THROWS_WITH(exec.bind("X", x.data(), Shape{2, 6}),
                      Catch::Contains("X") && Catch::Contains("(2x6)") &&
                          Catch::Contains("(3x4)"));
}

TEST_CASE("feeding the wrong dtype names the node and both dtypes", "[runtime]") {
  Graph g(DType::f64);
  auto X = g.input("X", {2, 2});
  runtime::Executor exec(g, {exp(X).id});
  std::vector<float> x(4, 0.0f);
  REQUIRE_THROWS_AS(exec.bind(X.id, x.data(), Shape{2, 2}), InputError);
  REQUIRE_THROWS_WITH(exec.bind(X.id, x.data(), Shape{2, 2}),
                      Catch::Contains("X") && Catch::Contains("f32") && Catch::Contains("f64"));

  Graph h(DType::f32);
  auto Xf = h.input("Xf", {2, 2});
  runtime::Executor exec_f(h, {exp(Xf).id});
  std::vector<double> xd(4, 0.0);
  REQUIRE_THROWS_WITH(exec_f.bind("Xf", xd.data(), Shape{2, 2}),
                      Catch::Contains("Xf") && Catch::Contains("f64") && Catch::Contains("f32"));
}

TEST_CASE("running with an unbound input names it", "[runtime]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  auto W = g.param("W1", {4, 2});
  auto Z = W * X;
  runtime::Executor exec(g, {Z.id});
  std::vector<double> x(6, 1.0);
  exec.bind(X.id, x.data(), X.shape());
  REQUIRE_THROWS_AS(exec.run(), InputError);
  REQUIRE_THROWS_WITH(exec.run(), Catch::Contains("W1") && Catch::Contains("never bound"));
}

TEST_CASE("binding a node the graph lacks, or one that is not a leaf, is refused",
          "[runtime]") {
  Graph g;
  auto X = g.input("X", {1, 2});
  auto A = sigmoid(X).named("A");
  runtime::Executor exec(g, {A.id});
  std::vector<double> x(2, 0.0);
  REQUIRE_THROWS_WITH(exec.bind("nope", x.data(), Shape{1, 2}), Catch::Contains("'nope'"));
  REQUIRE_THROWS_WITH(exec.bind(A.id, x.data(), Shape{1, 2}),
                      Catch::Contains("A is a sigmoid node") && Catch::Contains("not an input"));
}

TEST_CASE("asking the value of an unscheduled node is an error naming it", "[runtime]") {
  Graph g;
  auto X = g.input("X", {1, 2});
  auto used = exp(X).named("used");
  auto unused = log(X).named("unused");
  runtime::Executor exec(g, {used.id});
  std::vector<double> x{1.0, 2.0};
  exec.bind(X.id, x.data(), X.shape());
  exec.run();
  CHECK(exec.values<double>(used.id)[0] == Approx(2.718281828459045));
  REQUIRE_THROWS_AS(exec.value(unused.id), GraphError);
  REQUIRE_THROWS_WITH(exec.value(unused.id), Catch::Contains("unused"));
  REQUIRE_THROWS_AS(exec.value(NodeId{1000}), GraphError);
}
