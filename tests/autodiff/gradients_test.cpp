// The reverse pass's contract: unused parameters, fan-out, pruning, grad of
// grad, and a derived graph whose nodes are the notes' formulas (inspected
// structurally: the op and operands of dZ, dA and dW).
#include <catch2/catch.hpp>

#include <cmath>

#include "dagrad/dagrad.hpp"
#include "dagrad/ops/op.hpp"
#include "tests/autodiff/autodiff_test_util.hpp"

using namespace dagrad;

namespace {

const Node& named(const Graph& g, const char* name) {
  auto id = g.find(name);
  INFO("node " << name);
  REQUIRE(id.has_value());
  return g.node(*id);
}

NodeId id_of(const Graph& g, const char* name) {
  auto id = g.find(name);
  INFO("node " << name);
  REQUIRE(id.has_value());
  return *id;
}

models::ModelSpec spec(std::vector<std::int64_t> layers, models::Activation hidden) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.hidden = hidden;
  return s;
}

}  // namespace

TEST_CASE("unused parameter gets a zero gradient and a warning", "[autodiff]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  auto W = g.param("W", {1, 2});
  auto V = g.param("V", {4, 4});
  auto J = sum(square(W * X)).named("J");
  std::vector<std::string> warnings;
  autodiff::GradientOptions o;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  const auto d = gradients(J, {W, V}, o);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "J does not depend on V; its gradient is zero");
  CHECK(d[1].node().op == OpKind::constant);
  CHECK(d[1].node().attr<ConstantAttrs>().value == 0.0);
  CHECK(d[1].shape() == V.shape());
  // Only nodes on a path from J to W got gradient nodes: none mention V.
  for (NodeId id = 0; id < g.size(); ++id)
    for (NodeId in : g.node(id).inputs) CHECK(in != V.id);
}

TEST_CASE("fan-out accumulates: gradients meeting at one node are summed", "[autodiff]") {
  Graph g;
  auto x = g.param("x", {1, 1});
  // J = x^2 + 3x + exp(x): x feeds three consumers, dJ/dx = 2x + 3 + e^x.
  auto J = square(x) + 3.0 * x + exp(x);
  const auto d = gradients(J, {x});
  const double xv = 0.7;
  const auto v = test::evaluate(g, {{"x", io::Matrix({1, 1}, xv)}}, {d[0].id});
  CHECK(v[0].values[0] == Approx(2 * xv + 3 + std::exp(xv)).epsilon(1e-14));
  CHECK(d[0].node().op == OpKind::add);  // the sum of the parts is a node
}

TEST_CASE("only nodes on a path from J to a requested parameter get gradient nodes", "[autodiff]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  auto W1 = g.param("W1", {2, 2});
  auto W2 = g.param("W2", {1, 2});
  auto A1 = tanh(W1 * X).named("A1");
  auto J = sum(W2 * A1).named("J");
  const std::size_t before = g.size();
  gradients(J, {W2});
  // dW2 needs A1 but not dA1: nothing below layer 2 is differentiated.
  CHECK_FALSE(g.find("dA1").has_value());
  for (NodeId id = static_cast<NodeId>(before); id < g.size(); ++id)
    CHECK(g.node(id).op != OpKind::square);  // no tanh' = 1 - A1^2
}

TEST_CASE("grad of grad: d/dx of dJ/dx is the second derivative", "[autodiff]") {
  Graph g;
  auto x = g.param("x", {1, 1});
  auto J = sigmoid(x) + mul(x, tanh(x));
  auto dx = gradients(J, {x})[0];
  auto ddx = gradients(sum(dx), {x})[0];
  auto dddx = gradients(sum(ddx), {x})[0];
  const double v = 0.3, s = 1 / (1 + std::exp(-v)), t = std::tanh(v), t2 = 1 - t * t;
  const auto out = test::evaluate(g, {{"x", io::Matrix({1, 1}, v)}}, {dx.id, ddx.id, dddx.id});
  CHECK(out[0].values[0] == Approx(s * (1 - s) + t + v * t2).epsilon(1e-14));
  // s'' = s(1-s)(1-2s); (x tanh)'' = 2 tanh' + x tanh'' with tanh'' = -2 t tanh'
  CHECK(out[1].values[0] ==
        Approx(s * (1 - s) * (1 - 2 * s) + 2 * t2 - 2 * v * t * t2).epsilon(1e-13));
  // third order exists and is finite (its value is checked by the registry sweep's HVPs)
  CHECK(std::isfinite(out[2].values[0]));
}

TEST_CASE("derived graph: sigmoid + BCE gives dZ[L] = A[L] - Y, scaled by 1/m outside",
          "[autodiff]") {
  Graph g;
  auto model = models::build_mlp(g, spec({3, 4, 1}, models::Activation::tanh), 5);
  gradients(model.J, model.params());
  CHECK(model.cost.node().op == OpKind::bce_logits);
  const Node& dZ2 = named(g, "dZ2");
  CHECK(dZ2.op == OpKind::sub);
  CHECK(dZ2.inputs ==
        std::vector<NodeId>{id_of(g, "A2"), model.Y.id});  // A2 is the forward sigmoid
  // dW2 = 1/m dZ2 A1^T: an affine(1/m) of a matmul with trans_b, not a chain through dA2.
  const Node& dW2 = named(g, "dW2");
  REQUIRE(dW2.op == OpKind::affine);
  CHECK(dW2.attrs.scale_factor().value == Approx(1.0 / 5));
  const Node& mm = g.node(dW2.inputs[0]);
  CHECK(mm.op == OpKind::matmul);
  CHECK(mm.inputs == std::vector<NodeId>{id_of(g, "dZ2"), id_of(g, "A1")});
  CHECK((!mm.attr<MatmulAttrs>().trans_a && mm.attr<MatmulAttrs>().trans_b));
  // db2 = 1/m sum(dZ2, axis=1): one sum node carrying the scale.
  const Node& db2 = named(g, "db2");
  CHECK(db2.op == OpKind::sum);
  CHECK(db2.attr<SumAttrs>().axis == 1);
  CHECK(db2.attrs.scale_factor().value == Approx(1.0 / 5));
  CHECK(db2.inputs == std::vector<NodeId>{id_of(g, "dZ2")});
}

TEST_CASE("derived graph: softmax + cross-entropy gives dZ[L] = A[L] - Y", "[autodiff]") {
  Graph g;
  auto s = spec({3, 4, 3}, models::Activation::relu);
  s.output = models::Output::softmax;
  auto model = models::build_mlp(g, s, 6);
  gradients(model.J, model.params());
  CHECK(model.cost.node().op == OpKind::softmax_ce);
  const Node& dZ2 = named(g, "dZ2");
  CHECK(dZ2.op == OpKind::sub);
  CHECK(g.node(dZ2.inputs[0]).op == OpKind::softmax);
  CHECK(dZ2.inputs == std::vector<NodeId>{id_of(g, "A2"), model.Y.id});
}

TEST_CASE("derived graph: relu backward is a mask step(Z), reading Z", "[autodiff]") {
  Graph g;
  auto model = models::build_mlp(g, spec({3, 4, 1}, models::Activation::relu), 5);
  gradients(model.J, model.params());
  const Node& dZ1 = named(g, "dZ1");
  REQUIRE(dZ1.op == OpKind::mul);
  const Node& mask = g.node(dZ1.inputs[1]);
  CHECK(mask.op == OpKind::step);
  CHECK(mask.attr<SlopeAttrs>().slope == 0.0);
  CHECK(mask.inputs == std::vector<NodeId>{id_of(g, "Z1")});
  // dA1 = W2^T dZ2 (the 1/m stays outside, on dW1 and db1)
  const Node& dA1 = g.node(dZ1.inputs[0]);
  CHECK(dA1.op == OpKind::matmul);
  CHECK(dA1.inputs == std::vector<NodeId>{id_of(g, "W2"), id_of(g, "dZ2")});
  CHECK(dA1.attr<MatmulAttrs>().trans_a);
  // db1 = 1/m sum(dZ1, axis=1, keepdims)
  const Node& db1 = named(g, "db1");
  CHECK(db1.op == OpKind::sum);
  CHECK(db1.attr<SumAttrs>().axis == 1);
  CHECK(db1.attrs.scale_factor().value == Approx(1.0 / 5));
  CHECK(db1.inputs == std::vector<NodeId>{id_of(g, "dZ1")});
}

TEST_CASE("derived graph: tanh uses 1 - A^2 and sigmoid A(1 - A), reading the output A",
          "[autodiff]") {
  SECTION("tanh") {
    Graph g;
    auto model = models::build_mlp(g, spec({3, 4, 1}, models::Activation::tanh), 5);
    gradients(model.J, model.params());
    const Node& dZ1 = named(g, "dZ1");
    REQUIRE(dZ1.op == OpKind::mul);
    const Node& one_minus = g.node(dZ1.inputs[1]);  // 1 - A1^2 = affine(square(A1), -1, 1)
    REQUIRE(one_minus.op == OpKind::affine);
    CHECK((one_minus.attrs.scale_factor().value == -1.0 && one_minus.attr<AffineAttrs>().offset == 1.0));
    const Node& sq = g.node(one_minus.inputs[0]);
    CHECK(sq.op == OpKind::square);
    CHECK(sq.inputs == std::vector<NodeId>{id_of(g, "A1")});
  }
  SECTION("sigmoid") {
    Graph g;
    auto model = models::build_mlp(g, spec({3, 4, 1}, models::Activation::sigmoid), 5);
    gradients(model.J, model.params());
    const Node& dZ1 = named(g, "dZ1");
    REQUIRE(dZ1.op == OpKind::mul);
    const Node& deriv = g.node(dZ1.inputs[1]);  // A1 (1 - A1)
    REQUIRE(deriv.op == OpKind::mul);
    CHECK(deriv.inputs[0] == id_of(g, "A1"));
    const Node& one_minus = g.node(deriv.inputs[1]);
    CHECK(one_minus.op == OpKind::affine);
    CHECK(one_minus.inputs == std::vector<NodeId>{id_of(g, "A1")});
  }
}

TEST_CASE("derived graph: dropout backward reuses the forward mask / keep_prob", "[autodiff]") {
  Graph g;
  auto s = spec({3, 4, 1}, models::Activation::relu);
  s.keep_prob = {0.8};
  auto model = models::build_mlp(g, s, 5);
  gradients(model.J, model.params());
  const Node& dA1 = named(g, "dA1");
  CHECK(dA1.op == OpKind::dropout);
  CHECK(dA1.attr<DropoutAttrs>().keep_prob == 0.8);
  CHECK(dA1.inputs[1] == id_of(g, "D1"));  // the forward mask node, not a new draw
  std::size_t masks = 0;
  for (NodeId id = 0; id < g.size(); ++id) masks += g.node(id).op == OpKind::dropout_mask;
  CHECK(masks == 1);
}

TEST_CASE("derived graph: L2 contributes (lambda/m) W to dW", "[autodiff]") {
  Graph g;
  auto s = spec({3, 4, 1}, models::Activation::relu);
  s.l2 = 0.7;
  auto model = models::build_mlp(g, s, 5);
  gradients(model.J, model.params());
  for (const char* name : {"dW1", "dW2"}) {
    INFO(name);
    const Node& dW = named(g, name);
    REQUIRE(dW.op == OpKind::add);
    const Node& reg = g.node(dW.inputs[1]);
    CHECK(reg.op == OpKind::affine);
    CHECK(reg.attrs.scale_factor().value == Approx(0.7 / 5));
    CHECK(reg.inputs == std::vector<NodeId>{id_of(g, name + 1)});
    CHECK(g.node(dW.inputs[0]).op == OpKind::affine);  // 1/m dZ A^T
  }
}
