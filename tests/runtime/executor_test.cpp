// The executor: clear errors for wrong feeds, and no heap allocation per
// step once the plan is made (counted by tests/support/alloc_counter.cpp).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>

#include "dagrad/dagrad.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/passes/optimize.hpp"
#include "tests/support/alloc_counter.hpp"

using namespace dagrad;

namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a training step allocates nothing after the first", "[runtime]") {
  for (DType t : {DType::f32, DType::f64}) {
    Graph g(t);
    models::ModelSpec spec;
    spec.layers = {3, 5, 4, 1};
    spec.keep_prob = {0.8};
    const models::Model model = models::build_mlp(g, spec, 16);
    const std::vector<Expr> params = model.params();
    std::vector<NodeId> outputs{model.J.id};
    for (Expr e : gradients(model.J, params)) outputs.push_back(e.id);
    const passes::Rewritten r = passes::optimize(g, outputs);
    runtime::Executor exec(r.graph, r.outputs);
    std::vector<runtime::Tensor> keep;
    for (NodeId id : r.graph.schedule(r.outputs)) {
      const Node& n = r.graph.node(id);
      if (n.op != OpKind::input && n.op != OpKind::param) continue;
      runtime::Tensor& v = keep.emplace_back(t, n.shape);
      for (std::int64_t i = 0; i < v.size(); ++i) v.set(i, n.name == "Y" ? double(i % 2) : 0.1 * double(i % 7) - 0.3);
      exec.bind(id, v);
    }
    exec.run({true, 0, false});
    const long before = test::allocation_count();
    for (std::uint64_t step = 1; step <= 5; ++step) exec.run({true, step, false});
    CHECK(test::allocation_count() - before == 0);
  }
}

TEST_CASE("the allocation counter sees malloc, aligned_alloc and the executor's arena", "[runtime]") {
  // Without these the check above could pass while the arena, an
  // aligned_alloc, were allocated on every step.
  // NOTE: each block is written through a volatile pointer, or GCC drops a
  // malloc/free pair whose memory is never used, and nothing is counted.
  auto touch = [](void* p) { static_cast<volatile char*>(p)[0] = 1; };
  long before = test::allocation_count();
  void* p = std::aligned_alloc(64, 256);
  touch(p);
  CHECK(test::allocation_count() == before + 1);
  std::free(p);
  before = test::allocation_count();
  void* q = std::malloc(32);
  touch(q);
  CHECK(test::allocation_count() == before + 1);
  std::free(q);
  before = test::allocation_count();
  void* r = nullptr;
  REQUIRE(::posix_memalign(&r, 64, 128) == 0);
  touch(r);
  CHECK(test::allocation_count() == before + 1);
  std::free(r);
  // The arena comes from aligned_alloc in runtime/executor.cpp (libdagrad):
  // making a plan must count at least that one.
  Graph g;
  Expr x = g.input("X", {64, 64});
  Expr j = sum(tanh(x)).named("J");
  before = test::allocation_count();
  { runtime::Executor exec(g, {j.id}); }
  CHECK(test::allocation_count() > before);
}

TEST_CASE("executor errors name the node, the shapes and the dtype", "[runtime]") {
  Graph g;
  Expr x = g.input("X", {2, 3});
  Expr w = g.param("W1", {4, 2});
  Expr z = (w * x).named("Z1");
  Expr a = tanh(z).named("A1");
  Expr j = sum(a).named("J");
  runtime::Executor exec(g, {j.id});
  std::vector<double> xv(6, 0.5), wv(8, 0.1);
  std::vector<float> xf(6, 0.5f);

  const std::string shape = message_of([&] { exec.bind("X", xv.data(), {3, 2}); });
  CHECK_THAT(shape, Catch::Contains("X") && Catch::Contains("(3x2)") && Catch::Contains("(2x3)"));
  const std::string dtype = message_of([&] { exec.bind("X", xf.data(), {2, 3}); });
  CHECK_THAT(dtype, Catch::Contains("f32") && Catch::Contains("f64"));
  CHECK_THAT(message_of([&] { exec.bind("nope", xv.data(), {2, 3}); }), Catch::Contains("nope"));
  CHECK_THAT(message_of([&] { exec.bind(NodeId{999}, xv.data(), {2, 3}); }),
             Catch::Contains("unknown node %999"));
  CHECK_THAT(message_of([&] { exec.bind(z.id, xv.data(), {4, 3}); }),
             Catch::Contains("Z1") && Catch::Contains("not an input or parameter"));

  exec.bind("X", xv.data(), {2, 3});
  CHECK_THAT(message_of([&] { exec.run(); }), Catch::Contains("W1") && Catch::Contains("never bound"));
  exec.bind("W1", wv.data(), {4, 2});
  exec.run();
  CHECK(exec.scalar(j.id) == Approx(12 * std::tanh(0.1)));
  CHECK_THAT(message_of([&] { (void)exec.value(a.id); }),
             Catch::Contains("A1") && Catch::Contains("not an output"));
  CHECK_THAT(message_of([&] { (void)exec.value(NodeId{999}); }), Catch::Contains("unknown node"));
  CHECK_THROWS_AS(runtime::Executor(g, {NodeId{999}}), GraphError);

  runtime::ExecutorOptions keep_all;
  keep_all.plan.share = false;
  runtime::Executor debug(g, {j.id}, keep_all);
  debug.bind("X", xv.data(), {2, 3});
  debug.bind("W1", wv.data(), {4, 2});
  debug.run();
  CHECK(debug.values<double>(a.id)[0] == Approx(std::tanh(0.1)));
}
