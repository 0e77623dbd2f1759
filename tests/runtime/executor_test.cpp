// The executor: clear errors for wrong feeds, and no heap allocation per
// step once the plan is made (counted by tests/support/alloc_counter.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <functional>

#include "dagrad/dagrad.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
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
    const models::Mlp model = models::build_mlp(g, spec, 16);
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
             Catch::Contains("Z1") && Catch::Contains("not an input, parameter or state"));

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

namespace {

// Z = W X + b, A = sigmoid(Z), J = mean of the binary cross-entropy, with
// m symbolic: the plan of one graph, fed any number of samples.
struct Symbolic {
  Graph g;
  Expr X = g.input("X", {2, m_dim}), Y = g.input("Y", {1, m_dim});
  Expr W = g.param("W1", {1, 2}), b = g.param("b1", {1, 1});
  Expr A = sigmoid(W * X + b).named("A1");
  Expr J = binary_cross_entropy(A, Y).named("J");
  std::vector<double> w{0.5, -1.5}, bias{0.25};
};

// The same cost computed by hand for columns [0, m) of xs, ys.
double hand_cost(const Symbolic& s, const std::vector<double>& xs, const std::vector<double>& ys,
                 std::int64_t m, std::int64_t stride) {
  double total = 0;
  for (std::int64_t j = 0; j < m; ++j) {
    const double z = s.w[0] * xs[j] + s.w[1] * xs[stride + j] + s.bias[0];
    const double a = 1 / (1 + std::exp(-z));
    total += ys[j] == 1.0 ? std::log(a) : std::log(1 - a);
  }
  return -total / static_cast<double>(m);
}

}  // namespace

TEST_CASE("one plan runs any number of samples up to its capacity", "[runtime]") {
  Symbolic s;
  runtime::ExecutorOptions eo;
  eo.capacity = 8;
  runtime::Executor exec(s.g, {s.J, s.A}, eo);
  exec.bind(s.W, s.w.data());  // a parameter needs no shape: the graph knows it
  exec.bind("b1", s.bias.data());
  std::vector<double> xs(16), ys(8);
  for (int i = 0; i < 16; ++i) xs[static_cast<std::size_t>(i)] = 0.3 * i - 2;
  for (int i = 0; i < 8; ++i) ys[static_cast<std::size_t>(i)] = i % 3 == 0;
  const std::size_t arena = exec.arena_bytes();
  for (std::int64_t m : {8, 5, 1, 8, 3}) {
    // A batch of m samples is packed at the front of the buffers: (2 x m).
    std::vector<double> xm(static_cast<std::size_t>(2 * m));
    for (std::int64_t j = 0; j < m; ++j) xm[j] = xs[j], xm[m + j] = xs[8 + j];
    exec.bind(s.X, xm.data(), Shape{2, m});
    exec.bind(s.Y, ys.data(), Shape{1, m});
    exec.run();
    CHECK(exec.samples() == m);
    CHECK(exec.value(s.A).shape == Shape{1, m});
    CHECK(exec.scalar(s.J) == Approx(hand_cost(s, xm, ys, m, m)).epsilon(1e-14));
  }
  CHECK(exec.replans() == 0);
  CHECK(exec.capacity() == 8);
  CHECK(exec.arena_bytes() == arena);
  // More samples than the capacity plan again, once.
  std::vector<double> x12(24, 0.5), y12(12, 1.0);
  exec.bind(s.X, x12.data(), Shape{2, 12});
  exec.bind(s.Y, y12.data(), Shape{1, 12});
  exec.run();
  CHECK(exec.replans() == 1);
  CHECK(exec.capacity() == 12);
  exec.run();
  CHECK(exec.replans() == 1);
}

TEST_CASE("switching between full and partial batches allocates nothing", "[runtime]") {
  Symbolic s;
  runtime::ExecutorOptions eo;
  eo.capacity = 16;
  runtime::Executor exec(s.g, {s.J}, eo);
  exec.bind(s.W, s.w.data());
  exec.bind(s.b, s.bias.data());
  std::vector<double> xs(32, 0.25), ys(16, 0.0);
  exec.bind(s.X, xs.data(), Shape{2, 16});
  exec.bind(s.Y, ys.data(), Shape{1, 16});
  exec.run();
  const long before = test::allocation_count();
  for (std::int64_t m : {16, 5, 16, 5, 11}) {
    exec.bind(s.X, xs.data(), Shape{2, m});
    exec.bind(s.Y, ys.data(), Shape{1, m});
    exec.run();
  }
  CHECK(test::allocation_count() - before == 0);
}

TEST_CASE("inputs bound with different sample counts are refused, naming both", "[runtime]") {
  Symbolic s;
  runtime::Executor exec(s.g, {s.J});
  exec.bind(s.W, s.w.data());
  exec.bind(s.b, s.bias.data());
  std::vector<double> xs(16), ys(5);
  exec.bind(s.X, xs.data(), Shape{2, 8});
  exec.bind(s.Y, ys.data(), Shape{1, 5});
  CHECK_THAT(message_of([&] { exec.run(); }),
             Catch::Contains("Y is bound with 5 samples (1x5)") && Catch::Contains("X with 8 (2x8)"));
  // A feed whose rows do not match, and a shape-less bind of an input with m.
  CHECK_THAT(message_of([&] { exec.bind(s.X, xs.data(), Shape{3, 4}); }),
             Catch::Contains("fed shape (3x4) but the graph declares (2xm)"));
  CHECK_THAT(message_of([&] { exec.bind(s.X, xs.data()); }),
             Catch::Contains("X") && Catch::Contains("holds the sample count m"));
}

TEST_CASE("reading values with the wrong dtype is an error, not garbage", "[runtime]") {
  Symbolic s;
  runtime::Executor exec(s.g, {s.J});
  exec.bind(s.W, s.w.data());
  exec.bind(s.b, s.bias.data());
  std::vector<double> xs(4, 1.0), ys{1.0, 0.0};
  exec.bind(s.X, xs.data(), Shape{2, 2});
  exec.bind(s.Y, ys.data(), Shape{1, 2});
  exec.run();
  CHECK(exec.values<double>(s.J).size() == 1);
  CHECK_THAT(message_of([&] { (void)exec.values<float>(s.J); }),
             Catch::Contains("values<float>") && Catch::Contains("J holds f64"));
  std::vector<float> wf{1.0f, 2.0f};
  CHECK_THAT(message_of([&] { exec.bind(s.W, wf.data()); }),
             Catch::Contains("fed f32 data but the graph is f64"));
}

TEST_CASE("graph files keep m symbolic and read version 1 files", "[runtime]") {
  Symbolic s;
  const Graph back = graph_from_json(to_json(s.g), "sym.json");
  CHECK(back.node(*back.find("X")).shape == Shape{2, m_dim});
  CHECK(to_json(back) == to_json(s.g));
}
