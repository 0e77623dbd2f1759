// passes::fuse_nets: a narrow network's training step as one fused_net node
// must train exactly as the unfused plan does (the reference): whole fit
// runs with the fused and with the unfused plan, every activation, cost,
// L2, dropout, optimizer, full and partial mini-batches, compared parameter
// by parameter and cost by cost.
//   f64: within 1e-12 relative to max(1, |value|) (only the order of the
//        gradient sums differs);
//   f32: one step within 64 ulps of the parameter (the order of the sums and
//        ops/fast_math.hpp's tanh/exp/log, a few ulp each, move dW by a few
//        ulps of its largest term; alpha dW is far below W).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/fused_net.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/fit.hpp"
#include "tests/robustness/cli_run.hpp"

using namespace dagrad;

namespace {

// m samples of n0 features, labels for the output: 0/1 (sigmoid), a class
// in 0..K-1 (softmax) or a real value (linear); fixed formulas, no RNG.
io::Dataset data_for(std::int64_t n0, std::int64_t K, models::Output out, std::int64_t m) {
  io::Dataset d{io::Matrix({n0, m}), io::Matrix({1, m}), "fuse_net"};
  for (std::int64_t i = 0; i < m; ++i) {
    double s = 0;
    for (std::int64_t k = 0; k < n0; ++k) {
      d.X(k, i) = std::sin(1.7 * double(i + 1) + 0.9 * double(k)) * (1.0 + 0.2 * double(k % 3));
      s += d.X(k, i) * (k % 2 ? -1.0 : 1.0);
    }
    switch (out) {
      case models::Output::sigmoid: d.Y(0, i) = s > 0.1 ? 1.0 : 0.0; break;
      case models::Output::softmax: d.Y(0, i) = double((i * 7 + (s > 0 ? 1 : 0)) % K); break;
      case models::Output::linear: d.Y(0, i) = 0.5 * s + 0.1 * std::cos(double(i)); break;
    }
  }
  return d;
}

struct Case {
  std::vector<std::int64_t> layers;
  models::Activation hidden = models::Activation::relu;
  models::Output output = models::Output::sigmoid;
  double l2 = 0;
  double keep_prob = 1.0;
  train::OptimizerKind opt = train::OptimizerKind::gd;
  std::int64_t batch = 0;  // 0: full batch
  std::string what() const {
    return fmt::format("{} {} {} l2 {} keep {} {} batch {}", fmt::join(layers, "-"),
                       models::name_of(hidden), models::name_of(output), l2, keep_prob,
                       train::name_of(opt), batch);
  }
};

models::Model model_of(const Case& c, DType dtype) {
  models::ModelSpec s;
  s.layers = c.layers;
  s.hidden = c.hidden;
  s.output = c.output;
  s.l2 = c.l2;
  if (c.keep_prob < 1.0) s.keep_prob = {c.keep_prob};
  s.leaky_slope = 0.05;
  s.seed = 11;
  models::Model m = models::build_mlp(s, dtype);
  m.seed = 3;
  return m;
}

train::FitOptions options(const Case& c, std::int64_t iterations, bool fuse) {
  train::FitOptions o;
  o.iterations = iterations;
  o.batch_size = c.batch;
  o.optimizer.kind = c.opt;
  o.optimizer.learning_rate = c.opt == train::OptimizerKind::gd ? 0.3 : 0.01;
  o.optimizer.decay_rate = 0.25;
  o.out = nullptr;
  o.passes = fuse ? passes::PassOptions{} : passes::PassOptions::none();
  return o;
}

bool has_fused_net(models::Model& m, std::int64_t capacity) {
  m.init_params(m.seed);  // as fit does: the same values again
  train::Session s(m, train::Use::train, capacity);
  for (NodeId id = 0; id < s.graph().size(); ++id)
    if (s.graph().node(id).op == OpKind::fused_net) return true;
  return false;
}

struct Run {
  std::vector<double> costs;
  std::vector<std::vector<double>> params;
};

Run train_run(const Case& c, DType dtype, const io::Dataset& d, std::int64_t iterations,
              bool fuse, bool* fused = nullptr) {
  models::Model m = model_of(c, dtype);
  const train::FitOptions o = options(c, iterations, fuse);
  if (fused) {
    m.minimize(o.optimizer);
    *fused = has_fused_net(m, c.batch ? c.batch : d.samples());
  }
  Run r;
  r.costs = train::fit(m, d, nullptr, o).costs;
  for (Expr p : m.params()) r.params.push_back(m.value(p.name()).to_matrix().values);
  return r;
}

void check_f64(const Case& c, std::int64_t iterations = 12) {
  INFO(c.what());
  const std::int64_t K = c.output == models::Output::softmax ? c.layers.back() : 1;
  const io::Dataset d = data_for(c.layers.front(), K, c.output, 300);
  bool fused = false;
  const Run a = train_run(c, DType::f64, d, iterations, true, &fused);
  const Run b = train_run(c, DType::f64, d, iterations, false);
  REQUIRE(fused);
  REQUIRE(a.costs.size() == b.costs.size());
  for (std::size_t i = 0; i < a.costs.size(); ++i) {
    INFO("cost " << i);
    CHECK(std::abs(a.costs[i] - b.costs[i]) <= 1e-12 * std::max(1.0, std::abs(b.costs[i])));
  }
  REQUIRE(a.params.size() == b.params.size());
  for (std::size_t p = 0; p < a.params.size(); ++p) {
    REQUIRE(a.params[p].size() == b.params[p].size());
    for (std::size_t i = 0; i < a.params[p].size(); ++i) {
      INFO("param " << p << " element " << i);
      const double x = a.params[p][i], y = b.params[p][i];
      CHECK(std::abs(x - y) <= 1e-12 * std::max(1.0, std::abs(y)));
    }
  }
}

}  // namespace

TEST_CASE("fused narrow nets train as the unfused plan in f64: every activation and cost",
          "[passes][fuse_net]") {
  for (auto h : {models::Activation::relu, models::Activation::leaky_relu,
                 models::Activation::tanh, models::Activation::sigmoid})
    for (auto out : {models::Output::sigmoid, models::Output::softmax, models::Output::linear}) {
      Case c;
      c.layers = out == models::Output::softmax ? std::vector<std::int64_t>{3, 7, 5, 4}
                                                : std::vector<std::int64_t>{2, 5, 3, 1};
      c.hidden = h;
      c.output = out;
      check_f64(c);
    }
}

TEST_CASE("fused narrow nets train as the unfused plan in f64: optimizers, L2, dropout, batches",
          "[passes][fuse_net]") {
  for (auto opt : {train::OptimizerKind::gd, train::OptimizerKind::momentum,
                   train::OptimizerKind::rmsprop, train::OptimizerKind::adam})
    for (std::int64_t batch : {std::int64_t{0}, std::int64_t{64}}) {
      Case c;
      c.layers = {4, 20, 3, 1};
      c.opt = opt;
      c.batch = batch;  // 300 = 4 x 64 + 44: a partial last batch
      check_f64(c);
      c.l2 = 0.7;
      check_f64(c);
      c.keep_prob = 0.8;  // dropout masks keyed by the data set index of each sample
      c.hidden = models::Activation::tanh;
      check_f64(c);
    }
  Case wide;  // the widest fused layers, and a deep chain
  wide.layers = {32, 32, 32, 32, 32, 1};
  wide.hidden = models::Activation::tanh;
  check_f64(wide, 4);
}

TEST_CASE("a fused f32 step agrees with the unfused one within 64 ulps", "[passes][fuse_net]") {
  for (auto h : {models::Activation::relu, models::Activation::tanh, models::Activation::sigmoid})
    for (auto out : {models::Output::sigmoid, models::Output::softmax, models::Output::linear}) {
      Case c;
      c.layers = out == models::Output::softmax ? std::vector<std::int64_t>{3, 8, 4}
                                                : std::vector<std::int64_t>{2, 4, 1};
      c.hidden = h;
      c.output = out;
      c.opt = train::OptimizerKind::gd;
      INFO(c.what());
      const std::int64_t K = out == models::Output::softmax ? 4 : 1;
      const io::Dataset d = data_for(c.layers.front(), K, out, 400);
      bool fused = false;
      const Run a = train_run(c, DType::f32, d, 1, true, &fused);
      const Run b = train_run(c, DType::f32, d, 1, false);
      REQUIRE(fused);
      const double ulp = std::ldexp(1.0, -23);
      REQUIRE(a.costs.size() == 1);
      REQUIRE(b.costs.size() == 1);
      CHECK(std::abs(a.costs[0] - b.costs[0]) <= 64 * ulp * std::abs(b.costs[0]));
      REQUIRE(a.params.size() == b.params.size());
      for (std::size_t p = 0; p < a.params.size(); ++p) {
        REQUIRE(a.params[p].size() == b.params[p].size());
        for (std::size_t i = 0; i < a.params[p].size(); ++i) {
          INFO("param " << p << " element " << i << ": " << a.params[p][i] << " vs "
                        << b.params[p][i]);
          const double y = b.params[p][i];
          CHECK(std::abs(a.params[p][i] - y) <= 64 * ulp * std::max(std::abs(y), 0.01));
        }
      }
    }
}

TEST_CASE("a fused step gives the same bits with 1 and 2 threads", "[passes][fuse_net]") {
  // Enough work for the kernel to share its blocks out (about 4e6 flops).
  Case c;
  c.layers = {16, 32, 16, 1};
  c.hidden = models::Activation::tanh;
  const io::Dataset d = data_for(16, 1, c.output, 3000);
  Run runs[2];
  const int saved = runtime::threads();
  for (int t : {1, 2}) {
    runtime::set_threads(t);
    models::Model m = model_of(c, DType::f32);
    // The plan fit compiles holds a fused_net node, or this test compares
    // the unfused loops instead of the fused kernel.
    models::Model probe = model_of(c, DType::f32);
    probe.minimize(options(c, 3, true).optimizer);
    REQUIRE(has_fused_net(probe, d.samples()));
    const auto r = train::fit(m, d, nullptr, options(c, 3, true));
    for (Expr p : m.params()) runs[t - 1].params.push_back(m.value(p.name()).to_matrix().values);
    runs[t - 1].costs = r.costs;
  }
  runtime::set_threads(saved);
  REQUIRE(runs[0].costs.size() == 3);
  REQUIRE(runs[0].params.size() == 6);  // W1 b1 W2 b2 W3 b3
  CHECK(runs[0].costs == runs[1].costs);
  CHECK(runs[0].params == runs[1].params);
}

TEST_CASE("fuse_nets leaves wide nets and other graphs alone", "[passes][fuse_net]") {
  Case c;
  c.layers = {2, 33, 1};  // one layer above ops::net_max_width
  models::Model m = model_of(c, DType::f64);
  m.minimize(options(c, 1, true).optimizer);
  CHECK_FALSE(has_fused_net(m, 50));
  Case deep;
  deep.layers = std::vector<std::int64_t>(std::size_t(ops::net_max_depth) + 2, 3);
  deep.layers.back() = 1;
  models::Model md = model_of(deep, DType::f64);
  md.minimize(options(deep, 1, true).optimizer);
  CHECK_FALSE(has_fused_net(md, 50));
  // An evaluation plan has no updates: nothing to fuse.
  Case small;
  small.layers = {2, 4, 1};
  models::Model me = model_of(small, DType::f64);
  me.minimize(options(small, 1, true).optimizer);
  CHECK(has_fused_net(me, 50));
  train::Session eval(me, train::Use::evaluate, 50);
  for (NodeId id = 0; id < eval.graph().size(); ++id)
    CHECK(eval.graph().node(id).op != OpKind::fused_net);
}

TEST_CASE("dagrad plan and dot --fused show the fused node and what it replaced",
          "[passes][fuse_net][cli]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("dagrad_fuse_net_{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto plan = robustness::run_cli(
      dir, {"plan", "--layers", "2,4,1", "--hidden", "tanh", "--optimizer", "gd", "--m", "400"});
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("J is fused_net: 2-4-1, tanh, binary cross-entropy, gd") != std::string::npos);
  // The unfused step: 5 products (Z1, Z2, dA1, dW1, dW2), 4 assigns.
  CHECK(plan.out.find("matmul x5") != std::string::npos);
  CHECK(plan.out.find("assign x4") != std::string::npos);
  const auto unfused = robustness::run_cli(
      dir, {"plan", "--layers", "2,4,1", "--hidden", "tanh", "--optimizer", "gd", "--no-opt"});
  CHECK(unfused.exit_code == 0);
  CHECK(unfused.out.find("fused_net") == std::string::npos);
  const auto dot = robustness::run_cli(
      dir, {"dot", "--layers", "2,4,1", "--hidden", "relu", "--optimizer", "adam", "--fused"});
  CHECK(dot.exit_code == 0);
  CHECK(dot.out.find("fused_net 2-4-1, relu, binary cross-entropy, adam; in place of") !=
        std::string::npos);
  const auto refused = robustness::run_cli(dir, {"dot", "--layers", "2,4,1", "--fused"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("--fused") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("dagrad bench times the fused step, and mini-batches of a shuffled set",
          "[passes][fuse_net][cli]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("dagrad_fuse_net_bench_{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::vector<std::string> mb{"bench", "--layers", "20,8,3", "--output", "softmax",
                                    "--optimizer", "adam", "--batch-size", "16", "--samples", "100",
                                    "--steps", "3", "--warmup", "1", "--json"};
  const auto fused = robustness::run_cli(dir, mb);
  REQUIRE(fused.exit_code == 0);
  CHECK(fused.out.find("\"fused_net\":true") != std::string::npos);
  CHECK(fused.out.find("\"optimizer\":\"adam\"") != std::string::npos);
  CHECK(fused.out.find("\"samples_per_step\":16") != std::string::npos);
  std::vector<std::string> unfused_args = mb;
  unfused_args.push_back("--no-opt");
  const auto unfused = robustness::run_cli(dir, unfused_args);
  REQUIRE(unfused.exit_code == 0);
  CHECK(unfused.out.find("\"fused_net\":false") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("dagrad bench gives n[L] label rows to sigmoid and linear outputs of several units",
          "[passes][fuse_net][cli]") {
  // bench/peer.py's compile-time run is an MLP of width 16 throughout, so
  // its output layer has 16 sigmoid units: one label row each.
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("dagrad_bench_outputs_{}", ::getpid());
  std::filesystem::create_directories(dir);
  for (const char* output : {"sigmoid", "linear"}) {
    const auto r = robustness::run_cli(dir, {"bench", "--layers", "16,16,16", "--output", output, "--m", "8",
                                             "--steps", "1", "--warmup", "0", "--json"});
    INFO(output << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\"samples_per_step\":8") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
