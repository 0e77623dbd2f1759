// Each pass, and the whole pipeline, must leave every output of the training
// graph (J and all parameter gradients) equal to the unoptimized graph's
// within floating-point rounding, on every model family of the notes.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "dagrad/dagrad.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/passes/cse.hpp"
#include "dagrad/passes/fold.hpp"
#include "dagrad/passes/fuse.hpp"
#include "dagrad/passes/optimize.hpp"
#include "tests/support/same_node.hpp"

using namespace dagrad;

namespace {

struct Trained {
  Graph g{DType::f64};
  models::Mlp model;
  std::vector<NodeId> outputs;  // J, dW1, db1, ...
};

std::unique_ptr<Trained> build(const models::ModelSpec& spec, std::int64_t m) {
  auto t = std::make_unique<Trained>();
  t->model = models::build_mlp(t->g, spec, m);
  const std::vector<Expr> params = t->model.params();
  t->outputs.push_back(t->model.J.id);
  for (Expr d : gradients(t->model.J, params)) t->outputs.push_back(d.id);
  return t;
}

// Deterministic data: X from a sine pattern, labels from a threshold, params
// small and distinct, so that every output is a non-trivial number.
std::vector<std::vector<double>> run(const Graph& g, std::span<const NodeId> outputs,
                                     const models::Mlp& model) {
  runtime::Executor exec(g, {outputs.begin(), outputs.end()});
  std::vector<std::vector<double>> leaves;
  auto bind = [&](const std::string& name, Shape s, std::function<double(std::int64_t)> f) {
    auto& v = leaves.emplace_back(static_cast<std::size_t>(s.size()));
    for (std::int64_t i = 0; i < s.size(); ++i) v[std::size_t(i)] = f(i);
    if (auto id = g.find(name)) exec.bind(*id, v.data(), s);
  };
  const Shape ys = model.Y.shape();
  bind("X", model.X.shape(), [](std::int64_t i) { return std::sin(0.7 * double(i) + 0.3); });
  bind("Y", ys, [&](std::int64_t i) {
    if (ys.rows == 1) return std::sin(1.3 * double(i)) > 0 ? 1.0 : 0.0;
    return (i / ys.cols) == (i % ys.cols) % ys.rows ? 1.0 : 0.0;
  });
  for (Expr p : model.params())
    bind(p.name(), p.shape(), [](std::int64_t i) { return 0.3 * std::cos(1.1 * double(i) + 0.5); });
  exec.run({true, 3, true});
  std::vector<std::vector<double>> out;
  for (NodeId o : outputs) {
    auto v = exec.values<double>(o);
    out.emplace_back(v.begin(), v.end());
  }
  return out;
}

void require_close(const std::vector<std::vector<double>>& a,
                   const std::vector<std::vector<double>>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    REQUIRE(a[k].size() == b[k].size());
    for (std::size_t i = 0; i < a[k].size(); ++i)
      REQUIRE(a[k][i] == Approx(b[k][i]).epsilon(1e-12).margin(1e-14));
  }
}

models::ModelSpec spec_of(std::vector<std::int64_t> layers, models::Activation h,
                          models::Output o = models::Output::sigmoid, double l2 = 0,
                          std::vector<double> keep = {}) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.hidden = h;
  s.output = o;
  s.l2 = l2;
  s.keep_prob = std::move(keep);
  return s;
}

std::vector<std::pair<std::string, models::ModelSpec>> zoo() {
  using A = models::Activation;
  using O = models::Output;
  return {{"2-layer tanh", spec_of({2, 4, 1}, A::tanh)},
          {"L-layer relu", spec_of({5, 4, 3, 1}, A::relu)},
          {"L-layer tanh", spec_of({5, 4, 3, 1}, A::tanh)},
          {"L-layer sigmoid", spec_of({5, 4, 3, 1}, A::sigmoid)},
          {"L-layer leaky", spec_of({5, 4, 3, 1}, A::leaky_relu)},
          {"softmax", spec_of({4, 6, 3}, A::relu, O::softmax)},
          {"relu + L2", spec_of({5, 4, 3, 1}, A::relu, O::sigmoid, 0.7)},
          {"relu + dropout", spec_of({5, 4, 3, 1}, A::relu, O::sigmoid, 0, {0.8})},
          {"tanh + L2 + dropout", spec_of({3, 5, 4, 2}, A::tanh, O::softmax, 0.1, {0.9, 0.7})}};
}

using Pass = passes::Rewritten (*)(const Graph&, std::span<const NodeId>);

}  // namespace

TEST_CASE("optimize preserves J and every gradient on each model family", "[passes]") {
  for (const auto& [name, spec] : zoo()) {
    INFO(name);
    auto t = build(spec, 7);
    const auto plain = run(t->g, t->outputs, t->model);
    const passes::Rewritten r = passes::optimize(t->g, t->outputs);
    require_close(run(r.graph, r.outputs, t->model), plain);
    CHECK(r.graph.size() < t->g.size());
  }
}

TEST_CASE("each pass alone preserves the results", "[passes]") {
  const std::pair<const char*, Pass> all[] = {
      {"cse", passes::cse},
      {"compact", passes::compact},
      {"fold_constants", passes::fold_constants},
      {"fold_transposes", passes::fold_transposes},
      {"fold_scales", passes::fold_scales},
      {"fuse_bias", passes::fuse_bias},
      {"fuse_elementwise", passes::fuse_elementwise}};
  for (const auto& [name, spec] : zoo())
    for (const auto& [pass_name, pass] : all) {
      INFO(name << " / " << pass_name);
      auto t = build(spec, 5);
      const passes::Rewritten r = pass(t->g, t->outputs);
      require_close(run(r.graph, r.outputs, t->model), run(t->g, t->outputs, t->model));
    }
}

namespace {

int count_ops(const Graph& g, std::span<const NodeId> outputs, std::initializer_list<OpKind> ops) {
  int n = 0;
  for (NodeId id : g.schedule(outputs))
    for (OpKind k : ops) n += g.node(id).op == k;
  return n;
}

}  // namespace

TEST_CASE("no GEMM computes dA0 for the input layer, before or after optimizing", "[passes]") {
  const int L = 3;
  auto t = build(spec_of({5, 4, 3, 1}, models::Activation::relu), 7);
  // L forward GEMMs, L for dW, and dA[l] for l = 1..L-1 only: 3L - 1.
  CHECK(count_ops(t->g, t->outputs, {OpKind::matmul, OpKind::matmul_bias}) == 3 * L - 1);
  const passes::Rewritten r = passes::optimize(t->g, t->outputs);
  CHECK(count_ops(r.graph, r.outputs, {OpKind::matmul, OpKind::matmul_bias}) == 3 * L - 1);
  CHECK(count_ops(r.graph, r.outputs, {OpKind::matmul_bias}) == L);
}

TEST_CASE("optimize folds 1/m into dW's GEMM, the bias into Z's, and keeps the notes' names",
          "[passes]") {
  const std::int64_t m = 7;
  auto t = build(spec_of({5, 4, 3, 1}, models::Activation::relu), m);
  const passes::Rewritten r = passes::optimize(t->g, t->outputs);
  const Graph& g = r.graph;
  const Node& z1 = g.node(*g.find("Z1"));
  CHECK(z1.op == OpKind::matmul_bias);
  CHECK(z1.layer == 1);
  const Node& dw1 = g.node(*g.find("dW1"));
  CHECK(dw1.op == OpKind::matmul);
  CHECK(dw1.attrs.scale_factor().value == Approx(1.0 / double(m)));
  CHECK(dw1.role == Role::backward);
  CHECK(dw1.layer == 1);
  CHECK(g.node(*g.find("dZ1")).op == OpKind::step_mul);
  CHECK(g.node(*g.find("W1")).op == OpKind::param);
  // Every scale now rides in a GEMM alpha or a sum: no separate pass over memory.
  CHECK(count_ops(g, r.outputs, {OpKind::affine, OpKind::add, OpKind::step}) == 0);
  // The map sends each surviving name to the node that now carries it.
  CHECK(r.map[t->model.Z[0].id] == *g.find("Z1"));
}

TEST_CASE("tanh and sigmoid backward steps fuse into one loop each", "[passes]") {
  auto tanh_net = build(spec_of({2, 4, 1}, models::Activation::tanh), 5);
  const passes::Rewritten a = passes::fuse_elementwise(tanh_net->g, tanh_net->outputs);
  CHECK(count_ops(a.graph, a.outputs, {OpKind::tanh_grad_mul}) == 1);
  CHECK(count_ops(a.graph, a.outputs, {OpKind::square}) == 0);
  auto sig_net = build(spec_of({2, 4, 3, 1}, models::Activation::sigmoid), 5);
  const passes::Rewritten b = passes::fuse_elementwise(sig_net->g, sig_net->outputs);
  CHECK(count_ops(b.graph, b.outputs, {OpKind::sigmoid_grad_mul}) == 2);
}

TEST_CASE("fold_constants evaluates operations on constants", "[passes]") {
  Graph g;
  Expr x = g.input("X", {2, 3});
  Expr c = g.constant(0.5, {2, 3});
  Expr e = g.expr(g.add(OpKind::exp, {c.id}).id);            // e^0.5 everywhere
  Expr s = g.expr(g.add(OpKind::sum, {e.id}, Attrs{}).id);  // 6 e^0.5
  Expr y = (x + e) + s;
  const NodeId out[] = {y.id};
  const passes::Rewritten r = passes::fold_constants(g, out);
  CHECK(count_ops(r.graph, r.outputs, {OpKind::exp, OpKind::sum}) == 0);
  runtime::Executor exec(r.graph, r.outputs);
  std::vector<double> xv{1, 2, 3, 4, 5, 6};
  exec.bind("X", xv.data(), {2, 3});
  exec.run();
  const double k = std::exp(0.5);
  for (int i = 0; i < 6; ++i) CHECK(exec.values<double>(r.outputs[0])[i] == Approx(xv[i] + k + 6 * k));
}

TEST_CASE("fold_transposes turns transpose nodes into GEMM flags, then CSE merges", "[passes]") {
  Graph g;
  Expr a = g.input("A", {3, 2});
  Expr b = g.input("B", {3, 4});
  // Built with raw Graph::add so that the DSL's own folding does not apply.
  const NodeId t = g.add(OpKind::transpose, {a.id}).id;
  const NodeId via_node = g.add(OpKind::matmul, {t, b.id}).id;
  MatmulAttrs flag;
  flag.trans_a = true;
  const NodeId via_flag = g.add(OpKind::matmul, {a.id, b.id}, flag).id;
  REQUIRE(via_node != via_flag);
  const NodeId out[] = {via_node, via_flag};
  const passes::Rewritten r = passes::fold_transposes(g, out);
  CHECK(count_ops(r.graph, r.outputs, {OpKind::transpose}) == 0);
  CHECK(r.outputs[0] == r.outputs[1]);
  CHECK(r.graph.node(r.outputs[0]).attr<MatmulAttrs>().trans_a);
}

TEST_CASE("fold_scales leaves a GEMM that has another reader alone", "[passes]") {
  Graph g;
  Expr a = g.input("A", {2, 2});
  Expr p = matmul(a, a);
  Expr scaled = 0.5 * p;
  const NodeId both[] = {scaled.id, p.id};
  CHECK(count_ops(passes::fold_scales(g, both).graph, passes::fold_scales(g, both).outputs,
                  {OpKind::affine}) == 1);
  const NodeId one[] = {scaled.id};
  const passes::Rewritten r = passes::fold_scales(g, one);
  CHECK(count_ops(r.graph, r.outputs, {OpKind::affine}) == 0);
  CHECK(r.graph.node(r.outputs[0]).attrs.scale_factor().value == 0.5);
}

TEST_CASE("compact drops nodes that reach no output and keeps names", "[passes]") {
  Graph g;
  Expr x = g.input("X", {2, 2});
  Expr y = tanh(x).named("A1");
  exp(x).named("unused");
  const NodeId out[] = {y.id};
  const passes::Rewritten r = passes::compact(g, out);
  CHECK(r.graph.size() == 2);
  CHECK_FALSE(r.graph.find("unused"));
  CHECK(r.graph.find("A1") == std::optional<NodeId>(r.outputs[0]));
  CHECK(r.map[*g.find("unused")] == passes::no_node);
}

TEST_CASE("compact gives the graph that re-adding every scheduled node gives", "[passes]") {
  for (const auto& [name, spec] : zoo()) {
    INFO(name);
    auto t = build(spec, 7);
    // Fusing leaves the absorbed operands behind without readers: the graph
    // a compact meets inside optimize.
    const passes::Rewritten fused = passes::fuse_elementwise(t->g, t->outputs);
    const passes::Rewritten fast = passes::compact(fused.graph, fused.outputs);
    const passes::Rewritten slow = passes::rebuild(fused.graph, fused.outputs);  // through Graph::add
    CHECK(fast.graph.size() < fused.graph.size());
    REQUIRE(fast.graph.size() == slow.graph.size());
    CHECK(fast.outputs == slow.outputs);
    CHECK(fast.map == slow.map);
    for (NodeId id = 0; id < fast.graph.size(); ++id) {
      test::check_same_node(fast.graph, slow.graph, id);
      CHECK(fast.graph.consumers(id) == slow.graph.consumers(id));
    }
  }
}
