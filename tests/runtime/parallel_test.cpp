// Element-wise loops split over threads (ops/parallel.hpp): the ranges, the
// threads they really run on, and values that do not depend on the split.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "dagrad/dagrad.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/ops/parallel.hpp"
#include "dagrad/passes/optimize.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/dependency.hpp"

extern "C" int openblas_get_parallel(void);

using namespace dagrad;

namespace {

// Restores the thread count a test changed.
struct ThreadsGuard {
  int saved = runtime::threads();
  ~ThreadsGuard() { runtime::set_threads(saved); }
};

std::vector<float> pattern(std::int64_t n, unsigned salt) {
  // Values of both signs, some exactly 0, none from a library RNG.
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<unsigned>(i) * 2654435761u + salt;
    v[static_cast<std::size_t>(i)] = (k % 7 == 0) ? 0.0f : static_cast<float>(int(k % 2001) - 1000) / 250.0f;
  }
  return v;
}

}  // namespace

TEST_CASE("parallel ranges cover every element once, in aligned contiguous pieces", "[runtime]") {
  for (std::int64_t n : {1, 15, 16, 17, 100, 4097, 65536, 1000003}) {
    for (int parts = 1; parts <= 5; ++parts) {
      std::int64_t next = 0;
      for (int k = 0; k < parts; ++k) {
        const ops::Range r = ops::parallel_range(n, parts, k);
        INFO("n " << n << " parts " << parts << " k " << k);
        CHECK(r.begin == next);
        CHECK(r.end >= r.begin);
        if (r.begin < n) CHECK(r.begin % ops::parallel_align == 0);
        next = r.end;
      }
      CHECK(next == n);
    }
  }
  // Small loops stay on one thread; large ones use what they are given.
  CHECK(ops::parallel_parts(2, 2 * ops::parallel_grain - 1) == 1);
  CHECK(ops::parallel_parts(2, 2 * ops::parallel_grain) == 2);
  CHECK(ops::parallel_parts(1, 1 << 24) == 1);
  CHECK(ops::parallel_parts(8, 3 * ops::parallel_grain) == 3);
}

#if defined(_OPENMP)
TEST_CASE("OpenBLAS is the OpenMP build, so GEMMs and element-wise loops share one pool",
          "[runtime]") {
  // openblas_get_parallel: 0 sequential, 1 pthreads, 2 OpenMP.
  CHECK(openblas_get_parallel() == 2);
}

TEST_CASE("a large element-wise loop really runs on two threads when given two", "[runtime]") {
  std::mutex mu;
  std::set<std::thread::id> seen;
  std::vector<int> hits(1 << 20, 0);
  ops::parallel_for(2, static_cast<std::int64_t>(hits.size()), [&](std::int64_t b, std::int64_t e) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.insert(std::this_thread::get_id());
    }
    for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
  });
  CHECK(seen.size() == 2);
  CHECK(std::count(hits.begin(), hits.end(), 1) == static_cast<long>(hits.size()));
}
#endif

TEST_CASE("element-wise kernels give bitwise the same values on 1 and 2 threads", "[runtime]") {
  ThreadsGuard guard;
  const Shape s{600, 500};  // 300000 elements: split when threads > 1
  Graph g(DType::f32);
  Expr X = g.input("X", s), G = g.input("G", s);
  Expr b = g.input("b", {600, 1}), r = g.input("r", {1, 500});
  Expr R = g.input("R", {1, 100000});  // one row: split by columns
  std::vector<Expr> outs{relu(X),
                         leaky_relu(X, 0.01),
                         tanh(X),
                         sigmoid(X),
                         exp(X),
                         mul(G, step(X, 0.0)),        // optimized into step_mul
                         mul(G, step(X, 0.01)),
                         mul(G, 1.0 - square(tanh(X))),  // tanh_grad_mul
                         X + b,
                         X - r,
                         sum(X, 1),
                         sum(X, 0),
                         dropout(X, 0.8, 7),
                         relu(R) + 1.0};
  std::vector<NodeId> ids;
  for (Expr e : outs) ids.push_back(e.id);
  const passes::Rewritten opt = passes::optimize(g, ids);
  const std::vector<float> x = pattern(s.size(), 1), gr = pattern(s.size(), 2),
                           bv = pattern(600, 3), rv = pattern(500, 4), rr = pattern(100000, 5);

  auto run = [&](int threads) {
    runtime::set_threads(threads);
    runtime::Executor exec(opt.graph, opt.outputs);
    exec.bind("X", x.data(), s);
    exec.bind("G", gr.data(), s);
    exec.bind("b", bv.data(), {600, 1});
    exec.bind("r", rv.data(), {1, 500});
    exec.bind("R", rr.data(), {1, 100000});
    exec.run({true, 3, false});
    std::vector<std::vector<float>> values;
    for (NodeId id : opt.outputs) {
      const auto v = exec.values<float>(id);
      values.emplace_back(v.begin(), v.end());
    }
    return values;
  };
  const auto one = run(1);
  const auto two = run(2);
  REQUIRE(one.size() == two.size());
  for (std::size_t k = 0; k < one.size(); ++k) {
    INFO("output " << k << ": " << opt.graph.describe(opt.outputs[k]));
    REQUIRE(one[k].size() == two[k].size());
    CHECK(std::memcmp(one[k].data(), two[k].data(), one[k].size() * sizeof(float)) == 0);
  }
  // The masks and selects against plain loops, exactly.
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float xi = x[i], gi = gr[i];
    REQUIRE(one[0][i] == (xi > 0 ? xi : 0.0f));
    REQUIRE(one[1][i] == (xi > 0 ? xi : 0.01f * xi));
    REQUIRE(one[5][i] == gi * (xi > 0 ? 1.0f : 0.0f));
    REQUIRE(one[6][i] == gi * (xi > 0 ? 1.0f : 0.01f));
  }
}

namespace {

// Heap allocations in four f32 training steps after the first two, and the
// oneDNN GEMM calls made meanwhile, at `threads` with `mode` in force.
std::pair<long, std::uint64_t> step_allocations(ops::GemmMode mode, int threads) {
  ThreadsGuard guard;
  const ops::GemmMode saved_mode = ops::gemm_mode();
  ops::set_gemm_mode(mode);
  runtime::set_threads(threads);
  Graph g(DType::f32);
  models::ModelSpec spec;
  spec.layers = {64, 512, 256, 1};
  spec.keep_prob = {0.8};
  const std::int64_t m = 256;
  const models::Mlp model = models::build_mlp(g, spec, m);
  const std::vector<Expr> params = model.params();
  std::vector<NodeId> outputs{model.J.id};
  for (Expr e : gradients(model.J, params)) outputs.push_back(e.id);
  const passes::Rewritten r = passes::optimize(g, outputs);
  runtime::Executor exec(r.graph, r.outputs);
  std::vector<std::vector<float>> keep;
  for (NodeId id : r.graph.schedule(r.outputs)) {
    const Node& n = r.graph.node(id);
    if (n.op != OpKind::input && n.op != OpKind::param) continue;
    std::vector<float> v = pattern(n.shape.size(), id);
    if (n.name == "Y")
      for (float& y : v) y = y > 0 ? 1.0f : 0.0f;
    keep.push_back(std::move(v));
    exec.bind(id, keep.back().data(), n.shape);
  }
  exec.run({true, 0, false});  // warm-up: the thread pool starts here
  exec.run({true, 1, false});
  const auto before = test::allocation_count();
  const auto dnnl_before = ops::gemm_library_calls(ops::GemmLibrary::onednn);
  for (std::uint64_t step = 2; step < 6; ++step) exec.run({true, step, false});
  const std::pair<long, std::uint64_t> out{test::allocation_count() - before,
                                           ops::gemm_library_calls(ops::GemmLibrary::onednn) - dnnl_before};
  ops::set_gemm_mode(saved_mode);
  return out;
}

}  // namespace

TEST_CASE("a two-thread training step allocates nothing after the first", "[runtime]") {
  CHECK(step_allocations(ops::GemmMode::openblas, 2).first == 0);
}

// NOTE: oneDNN's parallel loop wraps its body in a std::function, one small
// heap allocation per GEMM call at two threads or more (none at one thread).
// dagrad's own code adds none: every allocation is one of those.
TEST_CASE("with oneDNN's GEMMs, the only allocations per step are oneDNN's own", "[runtime]") {
  if (!ops::onednn_built()) {
    dagrad::support::missing_dependency("oneDNN (libdnnl-dev)", "this test");
    return;
  }
  const auto [one, one_calls] = step_allocations(ops::GemmMode::onednn, 1);
  CHECK(one_calls > 0);
  CHECK(one == 0);
  const auto [two, two_calls] = step_allocations(ops::GemmMode::onednn, 2);
  CHECK(two_calls > 0);
  CHECK(two >= 0);
  CHECK(std::uint64_t(two) <= two_calls);
}
