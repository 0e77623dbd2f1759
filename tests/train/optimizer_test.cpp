// The optimizers as graph updates (train::minimize), fused and unfused,
// against hand computations, against the update loops dagrad ran outside
// the graph before (kept here verbatim: a check of the wiring, since the
// element rules in optim/ are the same loops), and against an arithmetic
// reference written another way: each moment as the weighted sum of every
// gradient so far, in long double (independent_step below).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/models/init.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/ops/fused_net.hpp"
#include "dagrad/optim/optimizer.hpp"
#include "dagrad/train/optimizer.hpp"
#include "dagrad/train/session.hpp"
#include "dagrad/train/synthetic.hpp"

using namespace dagrad;

namespace {

// ---- the reference: train/optimizer.cpp's loops before the updates moved
// into the graph (Optimizer::step), unchanged.
template <class T>
void update_gd(T* __restrict w, const T* __restrict g, std::int64_t n, T lr) {
  for (std::int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
}
template <class T>
void update_momentum(T* __restrict w, T* __restrict v, const T* __restrict g, std::int64_t n,
                     T lr, T beta) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta * v[i] + (T(1) - beta) * g[i];
    w[i] -= lr * v[i];
  }
}
template <class T>
void update_rmsprop(T* __restrict w, T* __restrict s, const T* __restrict g, std::int64_t n,
                    T lr, T beta2, T eps) {
  for (std::int64_t i = 0; i < n; ++i) {
    s[i] = beta2 * s[i] + (T(1) - beta2) * g[i] * g[i];
    w[i] -= lr * g[i] / (std::sqrt(s[i]) + eps);
  }
}
template <class T>
void update_adam(T* __restrict w, T* __restrict v, T* __restrict s, const T* __restrict g,
                 std::int64_t n, T lr, T beta1, T beta2, T eps, T c1, T c2) {
  for (std::int64_t i = 0; i < n; ++i) {
    v[i] = beta1 * v[i] + (T(1) - beta1) * g[i];
    s[i] = beta2 * s[i] + (T(1) - beta2) * g[i] * g[i];
    w[i] -= lr * (v[i] / c1) / (std::sqrt(s[i] / c2) + eps);
  }
}

// The old Optimizer::step for one parameter, with the old learning-rate
// decay: lr = lr0 / (1 + decay_rate * epoch) in double, then cast.
template <class T>
struct Reference {
  train::OptimizerConfig c;
  std::vector<T> w, v, s;
  std::int64_t t = 0;
  void step(const std::vector<T>& g, std::int64_t epoch) {
    ++t;
    const double lr = c.learning_rate / (1.0 + c.decay_rate * static_cast<double>(epoch));
    const auto n = static_cast<std::int64_t>(w.size());
    const double td = static_cast<double>(t);
    const T c1 = T(1.0 - std::pow(c.beta1, td)), c2 = T(1.0 - std::pow(c.beta2, td));
    switch (c.kind) {
      case train::OptimizerKind::gd: update_gd<T>(w.data(), g.data(), n, T(lr)); break;
      case train::OptimizerKind::momentum:
        update_momentum<T>(w.data(), v.data(), g.data(), n, T(lr), T(c.beta1));
        break;
      case train::OptimizerKind::rmsprop:
        update_rmsprop<T>(w.data(), s.data(), g.data(), n, T(lr), T(c.beta2), T(c.epsilon));
        break;
      case train::OptimizerKind::adam:
        update_adam<T>(w.data(), v.data(), s.data(), g.data(), n, T(lr), T(c.beta1), T(c.beta2),
                       T(c.epsilon), c1, c2);
        break;
      default: FAIL("no old loop for " << train::name_of(c.kind));
    }
  }
};

// ---- the graph: J = sum(G * W), so dJ/dW = G exactly, fed each step.
template <class T>
struct Rig {
  Graph g{std::is_same_v<T, float> ? DType::f32 : DType::f64};
  passes::Rewritten compiled;
  std::unique_ptr<runtime::Executor> exec;
  std::vector<runtime::Tensor> state;
  runtime::Tensor W, G, epoch;

  Rig(const train::OptimizerConfig& c, Shape s, const std::vector<T>& w0, bool fuse)
      : W(g.dtype(), s), G(g.dtype(), s), epoch(g.dtype(), {1, 1}) {
    Expr Gx = g.input("G", s), Wx = g.param("W1", s);
    Expr J = sum(mul(Gx, Wx)).named("J");
    const train::Updates u = train::minimize(J, std::vector<Expr>{Wx}, c);
    std::vector<NodeId> outputs{J.id};
    for (Expr a : u.assigns) outputs.push_back(a.id);
    compiled = passes::optimize(g, outputs, fuse ? passes::PassOptions{} : passes::PassOptions::none());
    exec = std::make_unique<runtime::Executor>(compiled.graph, compiled.outputs);
    for (std::size_t k = 0; k < w0.size(); ++k) W.set(static_cast<std::int64_t>(k), w0[k]);
    exec->bind("W1", W);
    exec->bind("G", std::as_const(G));
    state.reserve(u.state.size());
    for (Expr st : u.state) {
      state.emplace_back(g.dtype(), st.shape());
      if (st.id == u.alpha0.id) state.back().set(0, c.learning_rate);
      if (compiled.graph.find(st.name())) exec->bind(st.name(), state.back());
    }
    if (u.epoch.valid()) exec->bind("epoch", std::as_const(epoch));
  }
  void step(const std::vector<T>& grad, std::int64_t e) {
    std::memcpy(G.data<T>(), grad.data(), grad.size() * sizeof(T));
    epoch.set(0, static_cast<double>(e));
    exec->run();
  }
  bool has(OpKind op) const {
    for (NodeId id : exec->schedule())
      if (compiled.graph.node(id).op == op) return true;
    return false;
  }
  // Whether the update ran as `kind`'s fused element rule.
  bool fused_as(train::OptimizerKind kind) const {
    for (NodeId id : exec->schedule())
      if (compiled.graph.node(id).op == OpKind::update)
        return compiled.graph.node(id).attr<UpdateAttrs>().rule == optim::optimizer(kind).rule;
    return false;
  }
};

train::OptimizerConfig config(train::OptimizerKind k, double lr = 0.1, double decay = 0.0) {
  train::OptimizerConfig c;
  c.kind = k;
  c.learning_rate = lr;
  c.decay_rate = decay;
  return c;  // beta1 0.9, beta2 0.999, epsilon 1e-8
}

const std::vector<double> w0{1.0, -2.0};

}  // namespace

TEST_CASE("a gradient descent step is W - lr dW, fused and unfused", "[train]") {
  for (bool fuse : {true, false}) {
    Rig<double> r(config(train::OptimizerKind::gd), {1, 2}, w0, fuse);
    CHECK(r.fused_as(train::OptimizerKind::gd) == fuse);
    CHECK(r.has(OpKind::assign) == !fuse);
    r.step({0.5, -0.25}, 0);
    CHECK(r.W.get(0) == 1.0 - 0.1 * 0.5);
    CHECK(r.W.get(1) == -2.0 + 0.1 * 0.25);
  }
}

TEST_CASE("a momentum step matches the hand computation", "[train]") {
  for (bool fuse : {true, false}) {
    Rig<double> r(config(train::OptimizerKind::momentum), {1, 2}, w0, fuse);
    CHECK(r.fused_as(train::OptimizerKind::momentum) == fuse);
    r.step({0.5, -0.25}, 0);
    // v = 0.1 g = [0.05, -0.025]; w - 0.1 v = [0.995, -1.9975]
    CHECK(r.W.get(0) == Approx(0.995).epsilon(1e-15));
    CHECK(r.W.get(1) == Approx(-1.9975).epsilon(1e-15));
    r.step({0.5, -0.25}, 0);
    // v = 0.9 [0.05, -0.025] + 0.1 g = [0.095, -0.0475]
    CHECK(r.W.get(0) == Approx(0.995 - 0.0095).epsilon(1e-15));
    CHECK(r.W.get(1) == Approx(-1.9975 + 0.00475).epsilon(1e-15));
  }
}

TEST_CASE("an RMSprop step matches the hand computation", "[train]") {
  for (bool fuse : {true, false}) {
    Rig<double> r(config(train::OptimizerKind::rmsprop), {1, 2}, w0, fuse);
    CHECK(r.fused_as(train::OptimizerKind::rmsprop) == fuse);
    r.step({0.5, -0.25}, 0);
    // s = 0.001 g^2, so dW / sqrt(s) = sign(g) / sqrt(0.001) = +-31.6227766...
    const double step0 = 0.1 * 0.5 / (std::sqrt(0.001 * 0.25) + 1e-8);
    const double step1 = 0.1 * 0.25 / (std::sqrt(0.001 * 0.0625) + 1e-8);
    CHECK(r.W.get(0) == Approx(1.0 - step0).epsilon(1e-14));
    CHECK(r.W.get(1) == Approx(-2.0 + step1).epsilon(1e-14));
    CHECK(step0 == Approx(3.16227766).epsilon(1e-5));  // eps = 1e-8 shifts the 7th digit
  }
}

TEST_CASE("Adam steps match the hand computation with bias correction", "[train]") {
  for (bool fuse : {true, false}) {
    Rig<double> r(config(train::OptimizerKind::adam, 0.01), {1, 2}, w0, fuse);
    CHECK(r.fused_as(train::OptimizerKind::adam) == fuse);
    r.step({0.5, -0.25}, 0);
    // t = 1: v^ = g, s^ = g^2, so the step is lr g / (|g| + eps) ~ lr sign(g).
    CHECK(r.W.get(0) == Approx(1.0 - 0.01 * 0.5 / (0.5 + 1e-8)).epsilon(1e-15));
    CHECK(r.W.get(1) == Approx(-2.0 + 0.01 * 0.25 / (0.25 + 1e-8)).epsilon(1e-15));
    // t = 2 with g2 = [0.1, -0.25]:
    //   v = 0.9 * 0.05 + 0.1 * 0.1 = 0.055,     v^ = 0.055 / 0.19
    //   s = 0.999 * 0.00025 + 0.001 * 0.01 = 0.00025975, s^ = s / (1 - 0.998001)
    const double w0_ = r.W.get(0), w1 = r.W.get(1);
    r.step({0.1, -0.25}, 0);
    const double v_hat = 0.055 / 0.19, s_hat = 0.00025975 / 0.001999;
    CHECK(r.W.get(0) == Approx(w0_ - 0.01 * v_hat / (std::sqrt(s_hat) + 1e-8)).epsilon(1e-12));
    // Second component: the same gradient twice gives v^ = g, s^ = g^2 again.
    CHECK(r.W.get(1) == Approx(w1 + 0.01 * 0.25 / (0.25 + 1e-8)).epsilon(1e-12));
    CHECK(r.state[1].get(0) == 2.0);  // t
  }
}

// NOTE: no ';' in test names: catch_discover_tests cuts a name there (a CMake
// list), and ctest then runs a filter that matches no test and passes.
TEMPLATE_TEST_CASE("fused updates give the old optimizer loops' bits, unfused agree to 1e-12",
                   "[train]", float, double) {
  using T = TestType;
  const Shape s{3, 7};
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<T> start(21);
  for (T& x : start) x = T(normal(rng));
  for (auto kind : {train::OptimizerKind::gd, train::OptimizerKind::momentum,
                    train::OptimizerKind::rmsprop, train::OptimizerKind::adam}) {
    for (double decay : {0.0, 0.5}) {
      INFO(train::name_of(kind) << " decay " << decay);
      const auto c = config(kind, 0.05, decay);
      Rig<T> fused(c, s, start, true), unfused(c, s, start, false);
      Reference<T> ref{c, start, std::vector<T>(21), std::vector<T>(21)};
      for (int step = 0; step < 6; ++step) {
        std::vector<T> g(21);
        for (T& x : g) x = T(normal(rng));
        const std::int64_t epoch = step / 2;
        fused.step(g, epoch);
        unfused.step(g, epoch);
        ref.step(g, epoch);
      }
      // Bits: in float the graph computes alpha (with decay) and Adam's
      // c1 = 1 - beta1^t, c2 = 1 - beta2^t in float, where the loops did it in
      // double and rounded once.
      if (std::is_same_v<T, double> || (decay == 0.0 && kind != train::OptimizerKind::adam))
        CHECK(std::memcmp(fused.W.template data<T>(), ref.w.data(), 21 * sizeof(T)) == 0);
      for (std::size_t i = 0; i < 21; ++i) {
        // float: RMSprop's steps are about lr / sqrt(1 - beta2) = 1.6 each,
        // so after 6 of them W carries absolute rounding of a few 1e-6.
        const double tol = std::is_same_v<T, double> ? 1e-12 : 5e-5;
        CHECK(double(unfused.W.get(static_cast<std::int64_t>(i))) ==
              Approx(double(ref.w[i])).epsilon(tol).margin(tol));
        CHECK(double(fused.W.get(static_cast<std::int64_t>(i))) ==
              Approx(double(ref.w[i])).epsilon(tol).margin(tol));
      }
    }
  }
}

TEST_CASE("each update runs after every reader of its parameter", "[train]") {
  // W1 feeds two branches; its update must come after both forward readers
  // and every backward reader (W1^T dZ), whatever order the sort prefers.
  Graph g;
  Expr X = g.input("X", {2, m_dim});
  Expr W = g.param("W1", {2, 2});
  Expr J = (sum(mul(W * X, W * X)) + sum(W * W)).named("J");
  const auto u = train::minimize(J, std::vector<Expr>{W}, config(train::OptimizerKind::gd));
  std::vector<NodeId> outputs{J.id, u.assigns[0].id};
  const std::vector<NodeId> order = g.schedule(outputs);
  std::size_t update_at = 0;
  for (std::size_t k = 0; k < order.size(); ++k)
    if (order[k] == u.assigns[0].id) update_at = k;
  for (std::size_t k = 0; k < order.size(); ++k)
    for (NodeId in : g.node(order[k]).inputs)
      if (in == W.id && order[k] != u.assigns[0].id) CHECK(k < update_at);
  // A second update of the same leaf is refused by name.
  CHECK_THROWS_WITH(train::minimize(J, std::vector<Expr>{W}, config(train::OptimizerKind::gd)),
                    Catch::Contains("W1 already has an update"));
}

TEST_CASE("optimizer settings are validated, naming the flag", "[train]") {
  auto c = config(train::OptimizerKind::adam);
  c.beta1 = 1.0;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("--beta1"));
  c = config(train::OptimizerKind::gd, -1.0);
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("--lr"));
  c = config(train::OptimizerKind::gd, 0.1, -0.5);
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("--decay-rate"));
}

namespace {

// One course run the old way: the plan computes J and the gradients, and the
// update loops above (the old Optimizer::step) apply them outside the graph,
// with the same mini-batches (BatchSampler, seeded as fit seeds it).
template <class T>
std::vector<std::vector<T>> old_way(const models::ModelSpec& spec, const io::Dataset& d,
                                    const train::OptimizerConfig& c, std::int64_t epochs,
                                    std::int64_t B, std::uint64_t seed) {
  Graph g(DType::f64);
  const models::Mlp net = models::build_mlp(g, spec);
  const std::vector<Expr> params = net.params();
  std::vector<NodeId> outputs{net.J.id};
  for (Expr e : autodiff::gradients(net.J, params)) outputs.push_back(e.id);
  const passes::Rewritten r = passes::optimize(g, outputs);
  runtime::ExecutorOptions eo;
  eo.capacity = B;
  runtime::Executor exec(r.graph, r.outputs, eo);
  // He init from the seed, as fit's Model::init_params draws it.
  const auto start = models::init_params(net, models::Init::he, seed, DType::f64);
  std::vector<Reference<T>> refs;
  for (std::size_t k = 0; k < params.size(); ++k) {
    refs.push_back({c, {}, std::vector<T>(start[k].size()), std::vector<T>(start[k].size())});
    for (std::int64_t i = 0; i < start[k].size(); ++i) refs[k].w.push_back(T(start[k].get(i)));
    exec.bind(params[k].name(), refs[k].w.data());
  }
  const std::int64_t m = d.samples();
  train::BatchSampler sampler(m, B, train::shuffle_seed(seed));
  std::vector<T> xb(static_cast<std::size_t>(2 * B)), yb(static_cast<std::size_t>(B));
  std::vector<std::int64_t> all(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i) all[static_cast<std::size_t>(i)] = i;
  for (std::int64_t e = 0; e < epochs; ++e) {
    sampler.start_epoch(e);
    for (std::int64_t k = 0; k < sampler.batches(); ++k) {
      // A full batch is the data set in its own order; mini-batches are drawn.
      const std::span<const std::int64_t> idx = B == m ? std::span<const std::int64_t>(all) : sampler.batch(k);
      const auto b = static_cast<std::int64_t>(idx.size());
      for (std::int64_t j = 0; j < b; ++j) {
        xb[j] = T(d.X(0, idx[j]));
        xb[b + j] = T(d.X(1, idx[j]));
        yb[j] = T(d.Y(0, idx[j]));
      }
      exec.bind("X", std::as_const(xb).data(), Shape{2, b});
      exec.bind("Y", std::as_const(yb).data(), Shape{1, b});
      exec.run({.training = true, .step = 0, .check_numerics = false, .samples = idx});
      for (std::size_t p = 0; p < params.size(); ++p) {
        const auto grad = exec.values<T>(r.outputs[p + 1]);
        refs[p].step(std::vector<T>(grad.begin(), grad.end()), e);
      }
    }
  }
  std::vector<std::vector<T>> out;
  for (const auto& ref : refs) out.push_back(ref.w);
  return out;
}

}  // namespace

TEST_CASE("fit's graph updates give the bits of the old optimizer code on the course examples",
          "[train]") {
  // The notes' optimization run (C2W2: moons, [2,5,2,1] relu, mini-batches of
  // 64 with a partial last one, lr 0.0007) with each optimizer, and the
  // planar flower's 2-4-1 tanh at lr 1.2 (full batch), in f64.
  struct Run {
    std::vector<std::int64_t> layers;
    models::Activation hidden;
    train::OptimizerKind kind;
    double lr;
    std::int64_t batch, epochs;
  };
  const Run runs[] = {{{2, 5, 2, 1}, models::Activation::relu, train::OptimizerKind::gd, 0.0007, 64, 3},
                      {{2, 5, 2, 1}, models::Activation::relu, train::OptimizerKind::momentum, 0.0007, 64, 3},
                      {{2, 5, 2, 1}, models::Activation::relu, train::OptimizerKind::adam, 0.0007, 64, 3},
                      {{2, 4, 1}, models::Activation::tanh, train::OptimizerKind::gd, 1.2, 400, 20}};
  for (const Run& run : runs) {
    INFO(train::name_of(run.kind) << " [" << run.layers.size() << " layers]");
    const io::Dataset d = run.hidden == models::Activation::relu ? train::make_moons(300, 0.2, 3)
                                                                 : train::make_planar(400, 1);
    models::ModelSpec spec;
    spec.layers = run.layers;
    spec.hidden = run.hidden;
    const auto c = config(run.kind, run.lr);
    models::Model model = models::build_mlp(spec, DType::f64);
    model.seed = 3;
    train::FitOptions o;
    o.epochs = run.epochs;
    o.batch_size = run.batch;
    o.optimizer = c;
    o.out = nullptr;
    // The update nodes are what is compared here. The narrow-net kernel,
    // which would take these nets whole, sums in its own order; it is held
    // to the unfused plan within 1e-12 in tests/passes/fuse_net_test.cpp.
    o.passes.fuse_nets = false;
    train::fit(model, d, nullptr, o);
    const auto old = old_way<double>(spec, d, c, run.epochs, std::min<std::int64_t>(run.batch, d.samples()), 3);
    const std::vector<Expr> params = model.params();
    for (std::size_t k = 0; k < params.size(); ++k) {
      INFO(params[k].name());
      const runtime::Tensor& now = model.value(params[k].name());
      CHECK(std::memcmp(now.data<double>(), old[k].data(), old[k].size() * sizeof(double)) == 0);
    }
  }
}

namespace {

// ---- an arithmetic reference written another way: each moment as the
// weighted sum of every gradient so far (v_t = (1 - beta1) sum_k beta1^(t-k)
// g_k), not as a running average; in long double, from the formulas of the
// notes and of Loshchilov & Hutter (AdamW). One element, all steps.
long double independent_w(train::OptimizerKind kind, const train::OptimizerConfig& c, double w0,
                          const std::vector<double>& g, const std::vector<double>& lr) {
  using L = long double;
  const L b1 = c.beta1, b2 = c.beta2, eps = c.epsilon;
  auto moment = [&](std::size_t t, L beta, bool square) {  // t = 1, 2, ...
    L sum = 0;
    for (std::size_t k = 1; k <= t; ++k) {
      const L gk = g[k - 1];
      sum += std::pow(beta, L(t - k)) * (square ? gk * gk : gk);
    }
    return (1 - beta) * sum;
  };
  L w = w0;
  for (std::size_t t = 1; t <= g.size(); ++t) {
    const L a = lr[t - 1], gt = g[t - 1];
    const L v = moment(t, b1, false), s = moment(t, b2, true);
    const L v_hat = v / (1 - std::pow(b1, L(t))), s_hat = s / (1 - std::pow(b2, L(t)));
    switch (kind) {
      case train::OptimizerKind::gd: w -= a * gt; break;
      case train::OptimizerKind::momentum: w -= a * v; break;
      case train::OptimizerKind::rmsprop: w -= a * gt / (std::sqrt(s) + eps); break;
      case train::OptimizerKind::adam: w -= a * v_hat / (std::sqrt(s_hat) + eps); break;
      case train::OptimizerKind::adamw:
        w = w * (1 - a * L(c.weight_decay)) - a * v_hat / (std::sqrt(s_hat) + eps);
        break;
      default: FAIL("no independent reference for " << train::name_of(kind));
    }
  }
  return w;
}

#define DAGRAD_TEST_OPTIMIZER_NAME(name) #name,
const std::vector<std::string> listed_names{DAGRAD_OPTIMIZERS(DAGRAD_TEST_OPTIMIZER_NAME)};
#undef DAGRAD_TEST_OPTIMIZER_NAME

}  // namespace

TEST_CASE("the optimizer registry: each entry's kind and name are its line's", "[train][optim]") {
  const auto all = optim::all_optimizers();
  REQUIRE(all.size() == listed_names.size());
  for (std::size_t k = 0; k < all.size(); ++k) {
    INFO(listed_names[k]);
    CHECK(all[k]->kind == optim::OptimizerKind(k));
    CHECK(all[k]->name == listed_names[k]);
    CHECK(all[k]->rule->name == listed_names[k]);
    CHECK(optim::parse_optimizer(listed_names[k]) == optim::OptimizerKind(k));
    CHECK(all[k]->moment_count() <= 2);
    CHECK(all[k]->rule->step_scalars <= ops::max_step_scalars);
    CHECK((all[k]->rule->step_scalars == 0 || all[k]->step != nullptr));
  }
  CHECK_THROWS_WITH(optim::parse_optimizer("adagrad"), Catch::Contains("adamw"));
}

TEST_CASE("every optimizer: fused and unfused, its updates give the weighted sums' values",
          "[train][optim]") {
  const Shape s{3, 7};
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal;
  std::vector<double> start(21);
  for (double& x : start) x = normal(rng);
  for (const optim::Optimizer* opt : optim::all_optimizers()) {
    for (double decay : {0.0, 0.5}) {
      INFO(opt->name << " decay " << decay);
      auto c = config(opt->kind, 0.05, decay);
      c.weight_decay = 0.3;  // large enough to matter in 6 steps
      Rig<double> fused(c, s, start, true), unfused(c, s, start, false);
      CHECK(fused.fused_as(opt->kind));
      CHECK(!unfused.has(OpKind::update));
      std::vector<std::vector<double>> grads(21);
      std::vector<double> lrs;
      for (int step = 0; step < 6; ++step) {
        std::vector<double> g(21);
        for (std::size_t i = 0; i < 21; ++i) grads[i].push_back(g[i] = normal(rng));
        const std::int64_t epoch = step / 2;
        lrs.push_back(0.05 / (1.0 + decay * double(epoch)));
        fused.step(g, epoch);
        unfused.step(g, epoch);
      }
      // NOTE: not always the same bits: RMSprop's and Adam's loops round
      // (1 - beta2) g g as ((1 - beta2) g) g, the nodes as (1 - beta2) (g g),
      // as the loops always have (the course digits rest on them).
      for (std::size_t i = 0; i < 21; ++i) {
        const double want = double(independent_w(opt->kind, c, start[i], grads[i], lrs));
        CHECK(fused.W.get(std::int64_t(i)) == Approx(want).epsilon(1e-12).margin(1e-12));
        CHECK(unfused.W.get(std::int64_t(i)) == Approx(want).epsilon(1e-12).margin(1e-12));
      }
    }
  }
}

TEST_CASE("AdamW's first step: decay, then lr sign(g), by hand", "[train][optim]") {
  // t = 1: v^ = g, s^ = g^2, so W = (1 - lr lambda_w) W - lr g / (|g| + eps).
  auto c = config(train::OptimizerKind::adamw, 0.01);
  c.weight_decay = 0.5;
  CHECK(config(train::OptimizerKind::adamw).weight_decay == 0.01);  // torch.optim.AdamW's default
  for (bool fuse : {true, false}) {
    Rig<double> r(c, {1, 2}, w0, fuse);
    r.step({0.5, -0.25}, 0);
    CHECK(r.W.get(0) == Approx(0.995 * 1.0 - 0.01 * 0.5 / (0.5 + 1e-8)).epsilon(1e-15));
    CHECK(r.W.get(1) == Approx(0.995 * -2.0 + 0.01 * 0.25 / (0.25 + 1e-8)).epsilon(1e-15));
  }
  c.weight_decay = -1;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("--weight-decay"));
}

TEST_CASE("every optimizer runs under the narrow-net kernel as in the unfused plan", "[train][optim]") {
  const io::Dataset d = train::make_moons(120, 0.2, 3);
  for (const optim::Optimizer* opt : optim::all_optimizers()) {
    INFO(opt->name);
    models::ModelSpec spec;
    spec.layers = {2, 5, 2, 1};
    std::vector<std::vector<double>> params[2];
    for (bool fuse : {true, false}) {
      models::Model m = models::build_mlp(spec, DType::f64);
      m.seed = 3;
      train::FitOptions o;
      o.iterations = 8;
      o.batch_size = 32;
      o.optimizer = config(opt->kind, 0.01, 0.25);
      o.optimizer.weight_decay = 0.2;
      o.out = nullptr;
      o.passes = fuse ? passes::PassOptions{} : passes::PassOptions::none();
      if (fuse) {  // the plan fit makes holds one fused_net node that runs this rule
        models::Model probe = models::build_mlp(spec, DType::f64);
        probe.minimize(o.optimizer);
        probe.init_params(3);
        train::Session s(probe, train::Use::train, 32);
        bool found = false;
        for (NodeId id = 0; id < s.graph().size(); ++id)
          if (const Node& n = s.graph().node(id); n.op == OpKind::fused_net) found = n.attr<FusedNetAttrs>().net->rule == opt->rule;
        CHECK(found);
      }
      train::fit(m, d, nullptr, o);
      for (Expr p : m.params()) params[fuse].push_back(m.value(p.name()).to_matrix().values);
    }
    for (std::size_t p = 0; p < params[0].size(); ++p)
      for (std::size_t i = 0; i < params[0][p].size(); ++i)
        CHECK(params[1][p][i] == Approx(params[0][p][i]).epsilon(1e-12).margin(1e-12));
  }
}
