// The fused narrow-net step divides as the unfused ops do: every 1/m of the
// cost, the gradients and an L2 penalty over m is the batch's sample count
// (ops::batch_of), which in a data-parallel run is the global batch, not the
// m columns one process holds. Runs one plan with RunOptions::batch set, as
// dist/ runs each process's part, fused and unfused, and compares J and the
// parameters after each step.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "dagrad/models/mlp.hpp"
#include "dagrad/ops/fused_net.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/session.hpp"

using namespace dagrad;

namespace {

// m samples of 3 features, labels for the output: 0/1, a class in 0..2, or
// a real value; fixed formulas, no RNG.
io::Dataset data_of(models::Output out, std::int64_t m) {
  io::Dataset d{io::Matrix({3, m}), io::Matrix({1, m}), "divisor"};
  for (std::int64_t i = 0; i < m; ++i) {
    double s = 0;
    for (std::int64_t k = 0; k < 3; ++k) {
      d.X(k, i) = std::cos(1.3 * double(i + 1) + 0.7 * double(k));
      s += d.X(k, i) * (k == 1 ? -1.0 : 1.0);
    }
    switch (out) {
      case models::Output::sigmoid: d.Y(0, i) = s > 0 ? 1.0 : 0.0; break;
      case models::Output::softmax: d.Y(0, i) = double(i % 3); break;
      case models::Output::linear: d.Y(0, i) = 0.3 * s; break;
    }
  }
  return d;
}

struct Steps {
  std::vector<double> J;
  std::vector<std::vector<double>> params;
  bool fused = false;
};

Steps run_steps(models::Output out, bool fuse, std::int64_t m, std::int64_t batch) {
  models::ModelSpec spec;
  spec.layers = {3, 5, out == models::Output::softmax ? 3 : 1};
  spec.hidden = models::Activation::tanh;
  spec.output = out;
  spec.l2 = 0.7;  // lambda/(2m): m is the batch's count too
  spec.seed = 5;
  models::Model model = models::build_mlp(spec, DType::f64);
  model.init_params(spec.seed);
  model.minimize({optim::OptimizerKind::gd, 0.5});
  train::Session s(model, train::Use::train, m, fuse ? passes::PassOptions{} : passes::PassOptions::none());
  Steps r;
  for (NodeId id = 0; id < s.graph().size(); ++id) r.fused |= s.graph().node(id).op == OpKind::fused_net;
  train::Feeder feeder(s, train::sample_data(model, data_of(out, m), true), m);
  feeder.feed_range(0, m);
  for (std::uint64_t step = 0; step < 3; ++step) {
    s.run({.training = true, .step = step, .batch = batch});
    r.J.push_back(s.scalar(model.cost()));
  }
  for (Expr p : model.params()) r.params.push_back(model.value(p.name()).to_matrix().values);
  return r;
}

}  // namespace

TEST_CASE("a fused step divides by the global batch, as the unfused ops do", "[passes][fuse_net]") {
  for (models::Output out : {models::Output::sigmoid, models::Output::softmax, models::Output::linear}) {
    INFO(models::name_of(out));
    constexpr std::int64_t m = 40, batch = 120;  // this process's 40 of a batch of 120
    const Steps a = run_steps(out, true, m, batch);
    const Steps b = run_steps(out, false, m, batch);
    REQUIRE(a.fused);
    REQUIRE_FALSE(b.fused);
    // The batch matters: dividing by m instead gives another J.
    const Steps local = run_steps(out, false, m, 0);
    CHECK(std::abs(local.J[0] - b.J[0]) > 1e-3 * std::abs(b.J[0]));
    for (std::size_t i = 0; i < a.J.size(); ++i) {
      INFO("step " << i);
      CHECK(std::abs(a.J[i] - b.J[i]) <= 1e-12 * std::max(1.0, std::abs(b.J[i])));
    }
    REQUIRE(a.params.size() == b.params.size());
    for (std::size_t p = 0; p < a.params.size(); ++p)
      for (std::size_t i = 0; i < a.params[p].size(); ++i) {
        INFO("param " << p << " element " << i);
        CHECK(std::abs(a.params[p][i] - b.params[p][i]) <= 1e-12 * std::max(1.0, std::abs(b.params[p][i])));
      }
  }
}
