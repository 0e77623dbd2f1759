// The memory planner: no two values live at the same step may share bytes
// (checked on random DAGs, and by running them shared and unshared), the
// peak stays near the liveness lower bound on the notes' networks.
#include <catch2/catch.hpp>

#include <random>

#include <fmt/format.h>

#include "dagrad/dagrad.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/runtime/planner.hpp"

using namespace dagrad;

namespace {

// A random DAG over a few shapes: element-wise ops (which may run in place),
// GEMMs, reductions and broadcasts, each reading random earlier nodes.
struct RandomDag {
  Graph g;
  std::vector<NodeId> outputs;
  std::vector<NodeId> inputs;
};

RandomDag random_dag(std::uint32_t seed, int nodes) {
  RandomDag d;
  std::mt19937 rng(seed);
  const Shape s{3, 4};
  std::vector<Expr> pool;
  for (int i = 0; i < 3; ++i) {
    pool.push_back(d.g.input(fmt::format("x{}", i), s));
    d.inputs.push_back(pool.back().id);
  }
  auto pick = [&] { return pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)]; };
  for (int i = 0; i < nodes; ++i) {
    Expr a = pick(), b = pick();
    switch (rng() % 7) {
      case 0: pool.push_back(a + b); break;
      case 1: pool.push_back(mul(a, tanh(b))); break;
      case 2: pool.push_back(matmul(matmul(a, false, b, true, 0.25), a)); break;
      case 3: pool.push_back(broadcast(sum(a, 1), s) - b); break;
      case 4: pool.push_back(sigmoid(a)); break;
      case 5: pool.push_back(0.5 * a + 1.0); break;
      default: pool.push_back(relu(a - b)); break;
    }
  }
  d.outputs.push_back(pool.back().id);
  for (int k = 0; k < 3; ++k) d.outputs.push_back(pick().id);
  return d;
}

std::vector<double> run_dag(const RandomDag& d, bool share) {
  runtime::ExecutorOptions opt;
  opt.plan.share = share;
  runtime::Executor exec(d.g, d.outputs, opt);
  std::vector<std::vector<double>> data;
  for (std::size_t i = 0; i < d.inputs.size(); ++i) {
    auto& v = data.emplace_back(12);
    for (std::size_t j = 0; j < v.size(); ++j) v[j] = std::sin(double(3 * i + j)) * 0.9;
    exec.bind(d.inputs[i], v.data(), {3, 4});
  }
  exec.run();
  std::vector<double> out;
  for (NodeId o : d.outputs)
    for (double v : exec.values<double>(o)) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("the planner never lets two live values share bytes (random DAGs)", "[runtime]") {
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    INFO("seed " << seed);
    const RandomDag d = random_dag(seed, 60);
    const runtime::MemoryPlan plan = runtime::plan_memory(d.g, d.outputs);
    REQUIRE_NOTHROW(runtime::check_plan(d.g, plan));
    CHECK(plan.arena_bytes >= plan.lower_bound);
    CHECK(plan.arena_bytes <= plan.unshared_bytes);
    // Sharing must not change a single bit of any output.
    CHECK(run_dag(d, true) == run_dag(d, false));
  }
}

TEST_CASE("check_plan reports two live values placed on the same bytes", "[runtime]") {
  const RandomDag d = random_dag(7, 30);
  runtime::MemoryPlan plan = runtime::plan_memory(d.g, d.outputs);
  // Move every slot to offset 0: some pair is live together.
  for (runtime::SlotGroup& grp : plan.groups) grp.offset = 0;
  CHECK_THROWS_AS(runtime::check_plan(d.g, plan), GraphError);
}

TEST_CASE("peak bytes stay within 1.1x of the liveness lower bound on training steps",
          "[runtime]") {
  const std::vector<std::vector<std::int64_t>> nets = {
      {2, 4, 1}, {12288, 20, 7, 5, 1}, {784, 1024, 1024, 1}, {256, 256, 256, 256, 256, 256, 1}};
  for (const auto& layers : nets) {
    Graph g(DType::f32);
    models::ModelSpec spec;
    spec.layers = layers;
    const models::Mlp model = models::build_mlp(g, spec, 64);
    const std::vector<Expr> params = model.params();
    std::vector<NodeId> outputs{model.J.id};
    for (Expr e : gradients(model.J, params)) outputs.push_back(e.id);
    const passes::Rewritten r = passes::optimize(g, outputs);
    const runtime::MemoryPlan plan = runtime::plan_memory(r.graph, r.outputs);
    INFO("layers " << layers.size() << " peak " << plan.arena_bytes << " bound " << plan.lower_bound);
    CHECK(double(plan.arena_bytes) <= 1.1 * double(plan.lower_bound));
    CHECK(plan.arena_bytes < plan.unshared_bytes);
    REQUIRE_NOTHROW(runtime::check_plan(r.graph, plan));
  }
}

TEST_CASE("an element-wise node writes in place over an operand that dies there", "[runtime]") {
  Graph g;
  Expr x = g.input("X", {4, 4});
  Expr a = exp(x);
  Expr b = tanh(a);   // a dies here: b may take its bytes
  Expr c = sigmoid(b);
  const NodeId out[] = {c.id};
  const runtime::MemoryPlan plan = runtime::plan_memory(g, out);
  REQUIRE(plan.groups.size() == 1);
  CHECK(plan.groups[0].members.size() == 3);
  CHECK(plan.arena_bytes == 4 * 4 * 8);
}
