// The data-parallel pass (dist/data_parallel.hpp) without MPI: two
// "processes" are two sessions of the same model run one after the other,
// joined by Collectives of this test that add the first one's buckets to
// the second's. The second then holds what the whole batch gives on one
// process: the pass, RunOptions::batch (the global 1/m), dropout keyed by
// global index, L2 counted once and a process with no samples are all in
// that check. tests/mpi runs the same over Open MPI.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <numeric>

#include "dagrad/dist/data_parallel.hpp"
#include "dagrad/train/session.hpp"
#include "tests/train/train_test_util.hpp"

using namespace dagrad;

namespace {

// Process 0: keeps each bucket as it starts (its own part of the sum).
struct Recorder : ops::Collectives {
  std::map<NodeId, std::vector<double>> buckets;  // f32 buckets widened, exactly
  void start(NodeId id, void* data, std::int64_t n, DType dtype) override {
    if (dtype == DType::f32) {
      const auto* p = static_cast<const float*>(data);
      buckets[id].assign(p, p + n);
    } else {
      const auto* p = static_cast<const double*>(data);
      buckets[id].assign(p, p + n);
    }
  }
  void wait(NodeId) override {}
  void progress() override {}
};

// Process 1: at each wait, its bucket := process 0's + its own, in rank order.
struct Adder : ops::Collectives {
  explicit Adder(const Recorder& r) : first(r) {}
  const Recorder& first;
  struct Bucket {
    void* data;
    std::int64_t n;
    DType dtype;
  };
  std::map<NodeId, Bucket> started;
  int waits = 0;
  void start(NodeId id, void* data, std::int64_t n, DType dtype) override { started[id] = {data, n, dtype}; }
  void wait(NodeId id) override {
    const Bucket b = started.at(id);
    const std::vector<double>& a = first.buckets.at(id);
    REQUIRE(static_cast<std::int64_t>(a.size()) == b.n);
    for (std::int64_t i = 0; i < b.n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      if (b.dtype == DType::f32) static_cast<float*>(b.data)[i] = float(a[k]) + static_cast<float*>(b.data)[i];
      else static_cast<double*>(b.data)[i] = a[k] + static_cast<double*>(b.data)[i];
    }
    ++waits;
  }
  void progress() override {}
};

models::Model model(std::vector<std::int64_t> layers = {2, 5, 3, 1}, DType dtype = DType::f64) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.keep_prob = {0.7};
  s.l2 = 0.7;
  s.seed = 9;
  models::Model m = models::build_mlp(s, dtype);
  m.minimize({train::OptimizerKind::adam, 0.05});
  m.init_params(4);
  return m;
}

struct Step {
  double J = 0;
  std::vector<std::vector<double>> params;
};

Step after(const models::Model& m, double J) {
  Step s{J, {}};
  for (Expr p : m.params()) s.params.push_back(m.value(p.name()).to_matrix().values);
  return s;
}

// One training step of `m` on the columns `cols` of `data`, as part of a
// batch of `batch` samples (0: a plain session, the whole batch).
double step(models::Model& m, const io::Dataset& data, const std::vector<std::int64_t>& cols, std::int64_t batch,
            ops::Collectives* c) {
  const dist::DataParallelOptions tiny{1e-5};  // a bucket per gradient or so
  const std::int64_t capacity = std::max<std::int64_t>(1, static_cast<std::int64_t>(cols.size()));
  // The op-by-op step, data-parallel and on one process alike (a narrow
  // net's data-parallel step otherwise runs the fused kernel's two stages,
  // tests/mpi/data_parallel_mpi.cpp), so bits compare like for like.
  passes::PassOptions passes;
  passes.fuse_nets = false;
  train::Session s(m, train::Use::train, capacity, passes, batch > 0 ? &tiny : nullptr);
  train::Feeder f(s, train::sample_data(m, data, true), capacity);
  f.feed(cols);
  s.run({.training = true, .step = 3, .samples = cols, .batch = batch, .collectives = c});
  return s.scalar(m.cost());
}

double max_relative(const Step& a, const Step& b) {
  double worst = std::abs(a.J - b.J) / std::abs(b.J);
  for (std::size_t k = 0; k < a.params.size(); ++k)
    for (std::size_t i = 0; i < a.params[k].size(); ++i) {
      const double x = a.params[k][i], y = b.params[k][i];
      if (x != y) worst = std::max(worst, std::abs(x - y) / std::max(std::abs(x), std::abs(y)));
    }
  return worst;
}

}  // namespace

TEST_CASE("two processes' halves of a batch, summed by the allreduce nodes, make the whole batch's update",
          "[dist]") {
  const io::Dataset data = test::tiny_moons(7);
  std::vector<std::int64_t> all(7);
  std::iota(all.begin(), all.end(), 0);
  models::Model ref = model();
  const Step whole = after(ref, step(ref, data, all, 0, nullptr));
  // Uneven halves, and each process in turn holding none of the batch.
  for (const std::int64_t cut : {3, 1, 0, 7}) {
    INFO("process 0 holds samples [0, " << cut << ")");
    const std::vector<std::int64_t> first(all.begin(), all.begin() + cut), second(all.begin() + cut, all.end());
    models::Model p0 = model(), p1 = model();
    Recorder r;
    Adder add(r);
    step(p0, data, first, 7, &r);
    const Step two = after(p1, step(p1, data, second, 7, &add));
    CHECK(add.waits >= 3);  // several buckets
    CHECK(max_relative(two, whole) <= 1e-12);
  }
}

TEST_CASE("a data-parallel session of one process makes the plain session's updates bit for bit", "[dist]") {
  const io::Dataset data = test::tiny_moons(9);
  std::vector<std::int64_t> all(9);
  std::iota(all.begin(), all.end(), 0);
  models::Model plain = model(), dp = model();
  const Step a = after(plain, step(plain, data, all, 0, nullptr));
  const Step b = after(dp, step(dp, data, all, 9, nullptr));  // no collectives: a bucket's sum is itself
  CHECK(a.J == b.J);
  CHECK(a.params == b.params);
}

namespace {

// Process 1's state after a step of two in-process "processes" holding 300
// samples each of 600, at `threads`. Layers 2, 256, 128, 1: the 256 x 128
// products are cut into panels (ops/gemm_planner.hpp).
Step two_halves_at(DType dtype, int threads) {
  const int saved = runtime::threads();
  runtime::set_threads(threads);
  const io::Dataset data = test::tiny_moons(600);
  std::vector<std::int64_t> first(300), second(300);
  std::iota(first.begin(), first.end(), 0);
  std::iota(second.begin(), second.end(), 300);
  models::Model p0 = model({2, 256, 128, 1}, dtype), p1 = model({2, 256, 128, 1}, dtype);
  Recorder r;
  Adder add(r);
  step(p0, data, first, 600, &r);
  const Step s = after(p1, step(p1, data, second, 600, &add));
  runtime::set_threads(saved);
  return s;
}

}  // namespace

TEST_CASE("a data-parallel step gives the same bits on 1, 2 and 3 threads, f32 and f64", "[dist][gemm_bits]") {
  for (const DType dtype : {DType::f32, DType::f64}) {
    INFO(dtype_name(dtype));
    const Step one = two_halves_at(dtype, 1);
    for (const int threads : {2, 3}) {
      INFO(threads << " threads against 1");
      const Step more = two_halves_at(dtype, threads);
      CHECK(std::memcmp(&one.J, &more.J, sizeof(double)) == 0);
      REQUIRE(one.params.size() == more.params.size());
      for (std::size_t k = 0; k < one.params.size(); ++k)  // f32 values widened exactly
        CHECK(std::memcmp(one.params[k].data(), more.params[k].data(), one.params[k].size() * sizeof(double)) == 0);
    }
  }
}

TEST_CASE("a bucket starts right after its last gradient and its wait comes after them all", "[dist]") {
  models::Model m = model();
  const dist::DataParallelOptions tiny{1e-5};
  passes::PassOptions unfused;  // the fused step sums one bucket (its gradients G)
  unfused.fuse_nets = false;
  train::Session s(m, train::Use::train, 4, unfused, &tiny);
  const Graph& g = s.graph();
  const std::span<const NodeId> order = s.exec().schedule();
  std::vector<std::size_t> at(g.size(), 0);
  for (std::size_t k = 0; k < order.size(); ++k) at[order[k]] = k;
  int starts = 0;
  std::size_t last_start = 0, first_wait = order.size();
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Node& n = g.node(order[k]);
    if (n.op == OpKind::allreduce_wait) first_wait = std::min(first_wait, k);
    if (n.op != OpKind::allreduce_start) continue;
    ++starts;
    last_start = k;
    std::size_t ready = 0;
    for (NodeId in : n.inputs) ready = std::max(ready, at[in]);
    CHECK(k == ready + 1);
  }
  CHECK(starts >= 3);
  // Every bucket is started before the first wait: the sums overlap.
  CHECK(last_start < first_wait);
  CHECK_THROWS_AS(dist::data_parallel(m.graph(), std::vector<NodeId>{m.cost().id}, std::vector<NodeId>{m.cost().id},
                                      {0.0}),
                  InputError);
}
