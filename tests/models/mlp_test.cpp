// The notes' L-layer network from a spec: shapes, names, validation, and one
// forward pass against the same maths written as plain loops.
#include <cmath>
#include <deque>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/runtime/executor.hpp"

using namespace dagrad;
using dagrad::models::Activation;
using dagrad::models::ModelSpec;
using dagrad::models::Output;

TEST_CASE("build_mlp gives the notes' shapes and names", "[models]") {
  Graph g;
  ModelSpec spec;
  spec.layers = {5, 4, 3, 1};
  const std::int64_t m = 7;
  auto model = models::build_mlp(g, spec, m);
  REQUIRE(model.W.size() == 3);
  REQUIRE(model.b.size() == 3);
  CHECK(model.X.shape() == Shape{5, m});
  CHECK(model.Y.shape() == Shape{1, m});
  for (std::size_t l = 1; l <= 3; ++l) {
    INFO("layer " << l);
    const std::int64_t n = spec.layers[l], n_prev = spec.layers[l - 1];
    CHECK(model.W[l - 1].shape() == Shape{n, n_prev});
    CHECK(model.b[l - 1].shape() == Shape{n, 1});
    CHECK(model.Z[l - 1].shape() == Shape{n, m});
    CHECK(model.A[l - 1].shape() == Shape{n, m});
    CHECK(model.W[l - 1].name() == fmt::format("W{}", l));
    CHECK(model.b[l - 1].name() == fmt::format("b{}", l));
    CHECK(model.Z[l - 1].name() == fmt::format("Z{}", l));
    CHECK(model.W[l - 1].node().op == OpKind::param);
  }
  CHECK(model.param_names() == std::vector<std::string>{"W1", "b1", "W2", "b2", "W3", "b3"});
  CHECK(model.A[0].node().op == OpKind::relu);
  CHECK(model.AL.node().op == OpKind::sigmoid);
  CHECK(model.J.shape() == Shape{1, 1});
  CHECK(model.J.name() == "J");
  CHECK_FALSE(model.penalty.valid());
  CHECK(g.find("X").has_value());
  CHECK(g.find("Y").has_value());
}

TEST_CASE("L = 1 is logistic regression: one W, a sigmoid output", "[models]") {
  Graph g;
  ModelSpec spec;
  spec.layers = {3, 1};
  auto model = models::build_mlp(g, spec, 10);
  REQUIRE(model.W.size() == 1);
  CHECK(model.W[0].shape() == Shape{1, 3});
  CHECK(model.b[0].shape() == Shape{1, 1});
  CHECK(model.AL.node().op == OpKind::sigmoid);
  CHECK(model.AL.name() == "A1");
  CHECK(model.cost.node().op == OpKind::bce_logits);
}

TEST_CASE("dropout layers add the masks D1 and A1_drop", "[models]") {
  Graph g;
  ModelSpec spec;
  spec.layers = {2, 4, 3, 1};
  spec.keep_prob = {0.8, 0.5};
  spec.l2 = 0.1;
  auto model = models::build_mlp(g, spec, 6);
  for (const char* name : {"D1", "A1_drop", "D2", "A2_drop", "L2", "cost", "J"})
    CHECK(g.find(name).has_value());
  CHECK(g.node(*g.find("D2")).attr<MaskAttrs>().keep_prob == 0.5);
  CHECK(model.penalty.valid());
}

TEST_CASE("impossible specs are input errors naming the field", "[models]") {
  Graph g;
  ModelSpec spec;
  spec.layers = {3};
  REQUIRE_THROWS_AS(models::build_mlp(g, spec, 4), InputError);
  REQUIRE_THROWS_WITH(models::build_mlp(g, spec, 4), Catch::Contains("--layers"));
  spec.layers = {};
  REQUIRE_THROWS_WITH(spec.validate(), Catch::Contains("--layers"));
  spec.layers = {3, 0, 1};
  REQUIRE_THROWS_WITH(spec.validate(), Catch::Contains("--layers"));

  spec.layers = {3, 4, 1};
  for (double kp : {0.0, -0.1, 1.5}) {
    spec.keep_prob = {kp};
    INFO("keep_prob " << kp);
    REQUIRE_THROWS_AS(spec.validate(), InputError);
    REQUIRE_THROWS_WITH(spec.validate(), Catch::Contains("--keep-prob"));
  }
  spec.keep_prob = {};

  spec.layers = {3, 4, 1};
  spec.output = Output::softmax;
  REQUIRE_THROWS_AS(spec.validate(), InputError);
  REQUIRE_THROWS_WITH(spec.validate(), Catch::Contains("softmax"));
  spec.layers = {3, 4, 2};
  CHECK_NOTHROW(spec.validate());
}

namespace {

double g_of(Activation a, double z) {
  switch (a) {
    case Activation::tanh: return std::tanh(z);
    case Activation::relu: return z > 0 ? z : 0;
    default: return 1 / (1 + std::exp(-z));
  }
}

// One dense layer as plain loops: Z = W A + b (n x m), then act.
std::vector<double> layer(const std::vector<double>& W, const std::vector<double>& b,
                          const std::vector<double>& A, std::int64_t n, std::int64_t n_prev,
                          std::int64_t m) {
  std::vector<double> Z(static_cast<std::size_t>(n * m));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < m; ++j) {
      double z = b[i];
      for (std::int64_t k = 0; k < n_prev; ++k) z += W[i * n_prev + k] * A[k * m + j];
      Z[i * m + j] = z;
    }
  return Z;
}

struct Case {
  Activation hidden;
  Output output;
  double l2;
};

// J of the 2-layer net 2 -> 3 -> K on 4 samples, by plain loops.
double forward_by_hand(const Case& c, const std::vector<std::vector<double>>& p,
                       const std::vector<double>& X, const std::vector<double>& Y,
                       std::int64_t K) {
  const std::int64_t m = 4;
  auto A1 = layer(p[0], p[1], X, 3, 2, m);
  for (double& v : A1) v = g_of(c.hidden, v);
  auto Z2 = layer(p[2], p[3], A1, K, 3, m);
  double cost = 0;
  for (std::int64_t j = 0; j < m; ++j) {
    if (c.output == Output::sigmoid) {
      const double a = 1 / (1 + std::exp(-Z2[j]));
      cost -= Y[j] * std::log(a) + (1 - Y[j]) * std::log(1 - a);
    } else {
      double total = 0;
      for (std::int64_t k = 0; k < K; ++k) total += std::exp(Z2[k * m + j]);
      for (std::int64_t k = 0; k < K; ++k)
        cost -= Y[k * m + j] * std::log(std::exp(Z2[k * m + j]) / total);
    }
  }
  double squares = 0;
  for (int l : {0, 2})
    for (double w : p[l]) squares += w * w;
  return cost / m + c.l2 / (2 * m) * squares;
}

template <class T>
double forward_by_graph(const Case& c, const std::vector<std::vector<double>>& p,
                        const std::vector<double>& X, const std::vector<double>& Y,
                        std::int64_t K) {
  Graph g(std::is_same_v<T, float> ? DType::f32 : DType::f64);
  ModelSpec spec;
  spec.layers = {2, 3, K};
  spec.hidden = c.hidden;
  spec.output = c.output;
  spec.l2 = c.l2;
  auto model = models::build_mlp(g, spec, 4);
  runtime::Executor exec(g, {model.J.id});
  std::deque<std::vector<T>> store;
  auto feed = [&](Expr e, const std::vector<double>& v) {
    store.emplace_back(v.begin(), v.end());
    exec.bind(e.id, store.back().data(), e.shape());
  };
  feed(model.X, X);
  feed(model.Y, Y);
  const auto params = model.params();
  for (std::size_t i = 0; i < params.size(); ++i) feed(params[i], p[i]);
  exec.run();
  return exec.scalar(model.J.id);
}

}  // namespace

TEMPLATE_TEST_CASE("a 2-layer forward pass matches the notes' formulas as plain loops",
                   "[models]", float, double) {
  const std::vector<double> X{0.5, -1.0, 2.0, 0.0, 1.5, 0.3, -0.7, 1.0};  // (2 x 4)
  const std::vector<double> W1{0.1, -0.2, 0.4, 0.3, -0.5, 0.25}, b1{0.05, -0.1, 0.2};
  const double eps = std::is_same_v<TestType, float> ? 1e-5 : 1e-12;
  SECTION("tanh hidden, sigmoid output, L2") {
    const Case c{Activation::tanh, Output::sigmoid, 0.3};
    const std::vector<std::vector<double>> p{W1, b1, {0.7, -0.6, 0.2}, {0.1}};
    const std::vector<double> Y{1, 0, 0, 1};
    const double expected = forward_by_hand(c, p, X, Y, 1);
    CHECK(forward_by_graph<TestType>(c, p, X, Y, 1) == Approx(expected).epsilon(eps));
  }
  SECTION("relu hidden, softmax output over 2 classes") {
    const Case c{Activation::relu, Output::softmax, 0.0};
    const std::vector<std::vector<double>> p{
        W1, b1, {0.7, -0.6, 0.2, -0.3, 0.5, 0.9}, {0.1, -0.2}};
    const std::vector<double> Y{1, 0, 0, 1, 0, 1, 1, 0};  // (2 x 4), one-hot columns
    const double expected = forward_by_hand(c, p, X, Y, 2);
    CHECK(forward_by_graph<TestType>(c, p, X, Y, 2) == Approx(expected).epsilon(eps));
  }
}
