// The gradient checker itself: it passes correct rules on the notes' networks
// (relu, tanh, dropout, L2, softmax, float32), catches a planted wrong rule and
// names it node by node, treats relu kinks as kinks, and samples coordinates.
#include <catch2/catch.hpp>

#include "dagrad/autodiff/gradcheck.hpp"
#include "dagrad/dagrad.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/grad_override.hpp"
#include "tests/autodiff/autodiff_test_util.hpp"
#include "dagrad/models/init.hpp"

using namespace dagrad;

namespace {

struct Setup {
  Graph g;
  models::Mlp model;
  autodiff::Feeds feeds;
  std::vector<NodeId> params;
};

// The notes' network from a spec with random data and He-initialized weights.
void setup(Setup& s, const models::ModelSpec& spec, std::int64_t m, DType dtype = DType::f64) {
  s.g = Graph(dtype);
  s.model = models::build_mlp(s.g, spec, m);
  std::mt19937_64 rng(21);
  s.feeds.emplace_back("X", test::random_matrix(s.model.X.shape(), rng));
  s.feeds.emplace_back("Y", spec.output == models::Output::softmax
                                ? test::one_hot(s.model.Y.shape(), rng)
                                : test::random_matrix(s.model.Y.shape(), rng, test::Fill::binary));
  const auto init = models::init_params(s.model, models::Init::he, 4, DType::f64);
  for (std::size_t k = 0; k < init.size(); ++k) {
    io::Matrix v = init[k].to_matrix();
    if (k % 2 == 1)  // non-zero biases, so db is not trivially 1/m sum(dZ) of a symmetric net
      for (double& x : v.values) x = 0.05 * static_cast<double>(rng() % 7);
    s.feeds.emplace_back(s.model.params()[k].name(), v);
    s.params.push_back(s.model.params()[k].id);
  }
}

models::ModelSpec spec_of(std::vector<std::int64_t> layers, models::Activation a) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.hidden = a;
  return s;
}

// A wrong tanh rule: g * (1 - y) instead of g * (1 - y^2).
std::vector<Expr> wrong_tanh_rule(const ops::GradCall& c) { return {mul(c.g, 1.0 - c.y)}; }

}  // namespace

TEST_CASE("gradcheck passes the notes' networks with the default eps and threshold", "[autodiff]") {
  auto s = spec_of({5, 4, 3, 1}, models::Activation::relu);
  s.l2 = 0.7;
  s.keep_prob = {0.8};
  for (auto hidden : {models::Activation::relu, models::Activation::tanh,
                      models::Activation::sigmoid, models::Activation::leaky_relu}) {
    s.hidden = hidden;
    Setup su;
    setup(su, s, 10);
    autodiff::CheckOptions o;
    o.full = true;
    const auto r = autodiff::gradcheck(su.g, su.model.J.id, su.params, su.feeds, o);
    INFO(models::name_of(hidden) << " overall " << r.rel_diff);
    CHECK(r.pass);
    for (const auto& p : r.params) {
      INFO(p.name << " " << p.rel_diff);
      CHECK(p.rel_diff < 1e-7);
      CHECK(p.checked + p.kinks == p.shape.size());
    }
    const auto nodes = autodiff::check_rules(su.g, su.model.J.id, su.params, su.feeds, o);
    for (const auto& n : nodes.nodes) {
      INFO(n.node << " " << n.rel_diff);
      CHECK(n.pass);
    }
  }
}

TEST_CASE("gradcheck of a softmax network and of a float32 graph (re-evaluated in f64)",
          "[autodiff]") {
  auto s = spec_of({4, 5, 3}, models::Activation::tanh);
  s.output = models::Output::softmax;
  Setup a;
  setup(a, s, 8);
  CHECK(autodiff::gradcheck(a.g, a.model.J.id, a.params, a.feeds).pass);

  Setup f;
  setup(f, spec_of({3, 4, 1}, models::Activation::tanh), 6, DType::f32);
  REQUIRE(f.g.dtype() == DType::f32);
  const auto r = autodiff::gradcheck(f.g, f.model.J.id, f.params, f.feeds);
  CHECK(r.pass);
  CHECK(r.rel_diff < 1e-7);  // float32 arithmetic could not get below ~1e-4
}

TEST_CASE("a wrong rule is caught by gradcheck and named by the per-node check", "[autodiff]") {
  Setup su;
  setup(su, spec_of({3, 4, 1}, models::Activation::tanh), 6);
  ops::ScopedGradRuleOverride wrong(OpKind::tanh, wrong_tanh_rule);
  const auto r = autodiff::gradcheck(su.g, su.model.J.id, su.params, su.feeds);
  CHECK_FALSE(r.pass);
  CHECK_FALSE(r.params[0].pass);  // W1, b1 are below the wrong tanh rule
  CHECK_FALSE(r.params[1].pass);
  CHECK(r.params[2].pass);  // W2, b2 are above it
  CHECK(r.params[3].pass);
  const auto nodes = autodiff::check_rules(su.g, su.model.J.id, su.params, su.feeds);
  REQUIRE(nodes.first_failure.has_value());
  CHECK(nodes.nodes[*nodes.first_failure].node == "A1 (tanh)");
  std::size_t failures = 0;
  for (const auto& n : nodes.nodes) failures += !n.pass;
  CHECK(failures == 1);
}

TEST_CASE("the rule override is scoped", "[autodiff]") {
  {
    ops::ScopedGradRuleOverride wrong(OpKind::tanh, wrong_tanh_rule);
    CHECK(ops::op_def(OpKind::tanh).grad == &wrong_tanh_rule);
  }
  CHECK(ops::op_def(OpKind::tanh).grad != &wrong_tanh_rule);
}

TEST_CASE("a relu input at 0 is reported as a kink, not a failure", "[autodiff]") {
  Setup su;
  setup(su, spec_of({3, 4, 1}, models::Activation::relu), 6);
  // Row 0 of W1 and b1[0] = 0: Z1's first row is exactly 0, on relu's corner.
  for (auto& [name, v] : su.feeds) {
    if (name == "W1")
      for (std::int64_t j = 0; j < v.cols(); ++j) v(0, j) = 0.0;
    if (name == "b1") v(0, 0) = 0.0;
  }
  autodiff::CheckOptions o;
  o.full = true;
  const auto r = autodiff::gradcheck(su.g, su.model.J.id, su.params, su.feeds, o);
  CHECK(r.pass);
  CHECK(r.params[0].kinks == 3);  // W1(0, :)
  CHECK(r.params[1].kinks == 1);  // b1(0)
  CHECK(r.params[2].kinks == 0);
  const auto nodes = autodiff::check_rules(su.g, su.model.J.id, su.params, su.feeds, o);
  CHECK(nodes.pass());
}

TEST_CASE("gradcheck samples a stated number of coordinates per parameter", "[autodiff]") {
  Setup su;
  setup(su, spec_of({30, 8, 1}, models::Activation::tanh), 5);
  autodiff::CheckOptions o;
  o.samples = 7;
  const auto r = autodiff::gradcheck(su.g, su.model.J.id, su.params, su.feeds, o);
  CHECK(r.pass);
  CHECK(r.params[0].checked == 7);  // W1 has 240 coordinates
  CHECK(r.params[1].checked == 7);  // b1 has 8
  CHECK(r.params[3].checked == 1);  // b2 has 1: all of them
  CHECK(r.params[0].grad.shape == Shape{8, 30});
}
