// Whole training runs of train::fit against a training loop written here in
// plain loops, in f64, from the notes' formulas: forward, cost, backward and
// the optimizer's update, step after step, with learning-rate decay,
// L2, and mini-batches with a partial last batch. Every parameter and every
// recorded cost must agree to 1e-12 (relative to max(1, |value|)).
// Also: a whole run gives the same bits with 1 and with 2 threads (f64), and
// with 1, 2 and 3 in f32 and f64, full and mini-batches, fused or not.
//
// The only thing taken from dagrad is which samples make each mini-batch
// (reference_batches below), since that is a choice, not a formula.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/train/fit.hpp"

using namespace dagrad;

namespace {

using Vec = std::vector<double>;

// ---- the data and the start ---------------------------------------------------

io::Dataset data_set(std::int64_t n0, std::int64_t m) {
  io::Dataset d;
  d.origin = "reference";
  d.X = io::Matrix({n0, m});
  d.Y = io::Matrix({1, m});
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t k = 0; k < n0; ++k) d.X(k, i) = std::sin(1.3 * double(i + 1) + 0.7 * double(k)) * (1.0 + 0.1 * double(k));
    d.Y(0, i) = (i * 7 + 3) % 5 < 2 ? 1.0 : 0.0;
  }
  return d;
}

// W[l] (n[l] x n[l-1]) and b[l] (n[l] x 1), row-major, from a fixed formula.
struct Net {
  std::vector<Vec> W, b;
};

Net start(const std::vector<std::int64_t>& layers) {
  Net net;
  for (std::size_t l = 1; l < layers.size(); ++l) {
    Vec w(static_cast<std::size_t>(layers[l] * layers[l - 1])), b(static_cast<std::size_t>(layers[l]));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.6 * std::cos(2.1 * double(i) + double(l)) / std::sqrt(double(layers[l - 1]));
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.05 * std::sin(double(i + l));
    net.W.push_back(w);
    net.b.push_back(b);
  }
  return net;
}

std::vector<runtime::Tensor> tensors_of(const Net& net, const std::vector<std::int64_t>& layers) {
  std::vector<runtime::Tensor> out;
  for (std::size_t l = 0; l < net.W.size(); ++l) {
    runtime::Tensor w(DType::f64, {layers[l + 1], layers[l]}), b(DType::f64, {layers[l + 1], 1});
    std::memcpy(w.raw(), net.W[l].data(), net.W[l].size() * sizeof(double));
    std::memcpy(b.raw(), net.b[l].data(), net.b[l].size() * sizeof(double));
    out.push_back(std::move(w));
    out.push_back(std::move(b));
  }
  return out;
}

// ---- the reference loop ------------------------------------------------------------

struct Setup {
  std::vector<std::int64_t> layers;
  models::Activation hidden = models::Activation::tanh;
  train::OptimizerKind optimizer = train::OptimizerKind::gd;
  double lr = 0.1, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, decay = 0, l2 = 0;
  std::int64_t iterations = 0, epochs = 0, batch = 0;  // batch 0: full batch
  std::uint64_t seed = 5;
};

// The samples of every mini-batch of every epoch, in the order fit visits
// them. NOTE: the one place that knows how fit draws batches (a
// BatchSampler seeded with the seed mixed with this constant, whose epoch e
// permutation depends on (seed, e) alone); when fit's sampling changes,
// change this helper alone.
std::vector<std::vector<std::vector<std::int64_t>>> reference_batches(std::int64_t m, std::int64_t B,
                                                                      std::int64_t epochs, std::uint64_t seed) {
  train::BatchSampler sampler(m, B, seed ^ 0x9e3779b97f4a7c15ull);
  std::vector<std::vector<std::vector<std::int64_t>>> out;
  for (std::int64_t e = 0; e < epochs; ++e) {
    sampler.start_epoch(e);
    out.emplace_back();
    for (std::int64_t k = 0; k < sampler.batches(); ++k) {
      const auto idx = sampler.batch(k);
      out.back().emplace_back(idx.begin(), idx.end());
    }
  }
  return out;
}

double g_of(models::Activation a, double z) { return a == models::Activation::tanh ? std::tanh(z) : (z > 0 ? z : 0.0); }
double dg_of(models::Activation a, double z, double y) {
  return a == models::Activation::tanh ? 1.0 - y * y : (z > 0 ? 1.0 : 0.0);
}

// One forward and backward pass over the columns `cols`: the cost J and the
// gradients dW, db (the notes' formulas, with L2 on the W).
double cost_and_gradients(const Setup& s, const Net& net, const io::Dataset& d, const std::vector<std::int64_t>& cols,
                          Net& grad) {
  const std::size_t L = net.W.size(), mb = cols.size();
  std::vector<std::vector<Vec>> Z(L), A(L + 1);  // [layer][unit][sample]
  A[0].assign(static_cast<std::size_t>(s.layers[0]), Vec(mb));
  for (std::size_t k = 0; k < A[0].size(); ++k)
    for (std::size_t j = 0; j < mb; ++j) A[0][k][j] = d.X(std::int64_t(k), cols[j]);
  for (std::size_t l = 0; l < L; ++l) {
    const std::size_t rows = static_cast<std::size_t>(s.layers[l + 1]), in = static_cast<std::size_t>(s.layers[l]);
    Z[l].assign(rows, Vec(mb));
    A[l + 1].assign(rows, Vec(mb));
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < mb; ++j) {
        double z = net.b[l][r];
        for (std::size_t k = 0; k < in; ++k) z += net.W[l][r * in + k] * A[l][k][j];
        Z[l][r][j] = z;
        A[l + 1][r][j] = l + 1 == L ? 1.0 / (1.0 + std::exp(-z)) : g_of(s.hidden, z);
      }
  }
  // J = 1/mb sum softplus(z) - y z (the cross-entropy of sigmoid(z)), + lambda/(2 mb) sum ||W||^2
  double J = 0, penalty = 0;
  for (std::size_t j = 0; j < mb; ++j) {
    const double z = Z[L - 1][0][j], y = d.Y(0, cols[j]);
    J += std::max(z, 0.0) - y * z + std::log1p(std::exp(-std::abs(z)));
  }
  for (const Vec& w : net.W)
    for (double v : w) penalty += v * v;
  J = J / double(mb) + s.l2 / (2.0 * double(mb)) * penalty;
  // dZ[L] = A[L] - Y; dW = 1/mb dZ A^T + lambda/mb W; db = 1/mb sum dZ; dZ[l] = W^T dZ * g'(Z)
  std::vector<Vec> dZ(1, Vec(mb));
  for (std::size_t j = 0; j < mb; ++j) dZ[0][j] = A[L][0][j] - d.Y(0, cols[j]);
  grad = net;
  for (std::size_t l = L; l-- > 0;) {
    const std::size_t rows = dZ.size(), in = static_cast<std::size_t>(s.layers[l]);
    for (std::size_t r = 0; r < rows; ++r) {
      double db = 0;
      for (std::size_t j = 0; j < mb; ++j) db += dZ[r][j];
      grad.b[l][r] = db / double(mb);
      for (std::size_t k = 0; k < in; ++k) {
        double dw = 0;
        for (std::size_t j = 0; j < mb; ++j) dw += dZ[r][j] * A[l][k][j];
        grad.W[l][r * in + k] = dw / double(mb) + s.l2 / double(mb) * net.W[l][r * in + k];
      }
    }
    if (l == 0) break;
    std::vector<Vec> prev(in, Vec(mb));
    for (std::size_t k = 0; k < in; ++k)
      for (std::size_t j = 0; j < mb; ++j) {
        double da = 0;
        for (std::size_t r = 0; r < rows; ++r) da += net.W[l][r * in + k] * dZ[r][j];
        prev[k][j] = da * dg_of(s.hidden, Z[l - 1][k][j], A[l][k][j]);
      }
    dZ = std::move(prev);
  }
  return J;
}

// The optimizer's state and update, one parameter array at a time.
struct Moments {
  std::vector<Vec> v, s;
};

void update(const Setup& st, Vec& w, const Vec& g, Vec& v, Vec& s, double lr, std::int64_t t) {
  for (std::size_t i = 0; i < w.size(); ++i) {
    switch (st.optimizer) {
      case train::OptimizerKind::gd: w[i] -= lr * g[i]; break;
      case train::OptimizerKind::momentum:
        v[i] = st.beta1 * v[i] + (1 - st.beta1) * g[i];
        w[i] -= lr * v[i];
        break;
      case train::OptimizerKind::rmsprop:
        s[i] = st.beta2 * s[i] + (1 - st.beta2) * g[i] * g[i];
        w[i] -= lr * g[i] / (std::sqrt(s[i]) + st.epsilon);
        break;
      case train::OptimizerKind::adam: {
        v[i] = st.beta1 * v[i] + (1 - st.beta1) * g[i];
        s[i] = st.beta2 * s[i] + (1 - st.beta2) * g[i] * g[i];
        const double vhat = v[i] / (1 - std::pow(st.beta1, double(t)));
        const double shat = s[i] / (1 - std::pow(st.beta2, double(t)));
        w[i] -= lr * vhat / (std::sqrt(shat) + st.epsilon);
        break;
      }
      case train::OptimizerKind::adamw: {  // Adam, then W shrinks by 1 - lr lambda_w (FitOptions' default)
        v[i] = st.beta1 * v[i] + (1 - st.beta1) * g[i];
        s[i] = st.beta2 * s[i] + (1 - st.beta2) * g[i] * g[i];
        const double vhat = v[i] / (1 - std::pow(st.beta1, double(t)));
        const double shat = s[i] / (1 - std::pow(st.beta2, double(t)));
        w[i] = (1 - lr * train::OptimizerConfig{}.weight_decay) * w[i] - lr * vhat / (std::sqrt(shat) + st.epsilon);
        break;
      }
    }
  }
}

struct Reference {
  Net net;
  Vec costs;
};

Reference reference_run(const Setup& s, const io::Dataset& d) {
  const std::int64_t m = d.samples();
  Reference r{start(s.layers), {}};
  Net zero = r.net;
  for (Vec& w : zero.W) std::fill(w.begin(), w.end(), 0.0);
  for (Vec& b : zero.b) std::fill(b.begin(), b.end(), 0.0);
  Moments mw{zero.W, zero.W}, mb{zero.b, zero.b};
  std::vector<std::int64_t> all(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i) all[static_cast<std::size_t>(i)] = i;
  const bool mini = s.batch > 0 && s.batch < m;
  const std::int64_t epochs = s.epochs > 0 ? s.epochs : s.iterations;  // full batch: one update an epoch
  const auto batches = mini ? reference_batches(m, s.batch, epochs, s.seed)
                            : std::vector<std::vector<std::vector<std::int64_t>>>(static_cast<std::size_t>(epochs), {all});
  std::int64_t t = 0;
  for (std::int64_t e = 0; e < epochs; ++e) {
    const double lr = s.lr / (1.0 + s.decay * double(e));
    for (const auto& cols : batches[static_cast<std::size_t>(e)]) {
      Net grad;
      r.costs.push_back(cost_and_gradients(s, r.net, d, cols, grad));
      ++t;
      for (std::size_t l = 0; l < r.net.W.size(); ++l) {
        update(s, r.net.W[l], grad.W[l], mw.v[l], mw.s[l], lr, t);
        update(s, r.net.b[l], grad.b[l], mb.v[l], mb.s[l], lr, t);
      }
    }
  }
  return r;
}

// A fit and the parameters it left in the model (W1, b1, W2, ...).
struct Fitted {
  train::FitResult result;
  std::vector<runtime::Tensor> params;
};

Fitted fit_model(models::Model& m, const io::Dataset& d, const train::FitOptions& o) {
  Fitted f{train::fit(m, d, nullptr, o), {}};
  for (Expr p : m.params()) f.params.push_back(m.value(p.name()));
  return f;
}

Fitted fit_run(const Setup& s, const io::Dataset& d) {
  models::ModelSpec spec;
  spec.layers = s.layers;
  spec.hidden = s.hidden;
  spec.l2 = s.l2;
  models::Model m = models::build_mlp(spec, DType::f64);
  m.seed = s.seed;
  const std::vector<runtime::Tensor> start_values = tensors_of(start(s.layers), s.layers);
  const std::vector<Expr> params = m.params();
  for (std::size_t k = 0; k < params.size(); ++k) m.set_value(params[k].name(), start_values[k]);
  train::FitOptions o;
  o.iterations = s.iterations;
  o.epochs = s.epochs;
  o.batch_size = s.batch;
  o.optimizer = {s.optimizer, s.lr, s.beta1, s.beta2, s.epsilon, s.decay};
  o.out = nullptr;
  return fit_model(m, d, o);
}

bool close(double got, double want) { return std::abs(got - want) <= 1e-12 * std::max(1.0, std::abs(want)); }

void compare(const Setup& s, const io::Dataset& d) {
  const Reference ref = reference_run(s, d);
  const Fitted fitted = fit_run(s, d);
  const train::FitResult& r = fitted.result;
  REQUIRE(r.costs.size() == ref.costs.size());
  for (std::size_t i = 0; i < ref.costs.size(); ++i) {
    INFO("cost of update " << i << ": fit " << r.costs[i] << ", reference " << ref.costs[i]);
    REQUIRE(close(r.costs[i], ref.costs[i]));
  }
  REQUIRE(fitted.params.size() == 2 * ref.net.W.size());
  for (std::size_t l = 0; l < ref.net.W.size(); ++l)
    for (const auto& [name, want, got] :
         {std::tuple{fmt::format("W{}", l + 1), &ref.net.W[l], &fitted.params[2 * l]},
          std::tuple{fmt::format("b{}", l + 1), &ref.net.b[l], &fitted.params[2 * l + 1]}}) {
      REQUIRE(static_cast<std::size_t>(got->size()) == want->size());
      for (std::size_t i = 0; i < want->size(); ++i) {
        INFO(name << "[" << i << "]: fit " << got->get(std::int64_t(i)) << ", reference " << (*want)[i]);
        REQUIRE(close(got->get(std::int64_t(i)), (*want)[i]));
      }
    }
}

}  // namespace

TEST_CASE("whole runs agree with a plain-loop reference: full-batch GD, momentum, RMSprop, Adam", "[train]") {
  const io::Dataset d = data_set(3, 10);
  for (const auto kind : {train::OptimizerKind::gd, train::OptimizerKind::momentum, train::OptimizerKind::rmsprop,
                          train::OptimizerKind::adam}) {
    INFO("optimizer " << train::name_of(kind));
    Setup s;
    s.layers = {3, 4, 2, 1};
    s.optimizer = kind;
    s.lr = kind == train::OptimizerKind::gd || kind == train::OptimizerKind::momentum ? 0.5 : 0.01;
    s.iterations = 25;
    compare(s, d);
  }
}

TEST_CASE("whole runs agree with the reference under learning-rate decay, L2 and relu", "[train]") {
  compare({.layers = {3, 5, 1}, .hidden = models::Activation::relu, .optimizer = train::OptimizerKind::momentum,
           .lr = 0.3, .decay = 0.5, .l2 = 0.7, .iterations = 30},
          data_set(3, 10));
}

TEST_CASE("mini-batch runs with a partial last batch agree with the reference", "[train]") {
  const io::Dataset d = data_set(3, 10);
  SECTION("GD, batches of 4 (4, 4, 2), decay, L2") {
    compare({.layers = {3, 4, 1}, .lr = 0.4, .decay = 0.25, .l2 = 0.3, .epochs = 6, .batch = 4}, d);
  }
  SECTION("Adam, batches of 3 (3, 3, 3, 1), relu") {
    compare({.layers = {3, 6, 3, 1}, .hidden = models::Activation::relu, .optimizer = train::OptimizerKind::adam,
             .lr = 0.02, .decay = 0.1, .epochs = 5, .batch = 3},
            d);
  }
  SECTION("momentum, 17 features (gathered from the sample-major copy), batches of 4") {
    compare({.layers = {17, 5, 1}, .optimizer = train::OptimizerKind::momentum, .lr = 0.1,
             .epochs = 4, .batch = 4},
            data_set(17, 10));
  }
}

namespace {

// Restores the thread count a test changed.
struct Threads {
  explicit Threads(int n) : saved(runtime::threads()) { runtime::set_threads(n); }
  ~Threads() { runtime::set_threads(saved); }
  int saved;
};

Fitted threaded_run(int threads, std::int64_t batch, std::vector<double> keep, DType dtype = DType::f64,
                    bool fused = true) {
  const Threads t(threads);
  models::ModelSpec spec;
  spec.layers = {16, 256, 128, 1};
  spec.keep_prob = std::move(keep);
  models::Model m = models::build_mlp(spec, dtype);
  m.seed = 9;
  train::FitOptions o;
  o.optimizer.learning_rate = 0.05;
  o.iterations = 8;
  o.batch_size = batch;
  o.optimizer.kind = train::OptimizerKind::adam;
  o.out = nullptr;
  if (!fused) o.passes = passes::PassOptions::none();
  return fit_model(m, data_set(16, 600), o);
}

bool same_bits(const Fitted& fa, const Fitted& fb) {
  const train::FitResult &a = fa.result, &b = fb.result;
  if (fa.params.size() != fb.params.size() || a.costs.size() != b.costs.size()) return false;
  if (std::memcmp(a.costs.data(), b.costs.data(), a.costs.size() * sizeof(double)) != 0) return false;
  for (std::size_t k = 0; k < fa.params.size(); ++k)
    if (fa.params[k].dtype() != fb.params[k].dtype() ||
        std::memcmp(fa.params[k].raw(), fb.params[k].raw(),
                    static_cast<std::size_t>(fa.params[k].size()) * dtype_size(fa.params[k].dtype())) != 0)
      return false;
  return true;
}

}  // namespace

TEST_CASE("a whole training run gives the same bits with 1 and 2 threads", "[train]") {
  // 256 x 600 activations: the element-wise loops split over both threads
  // (ops/parallel.hpp splits above 2 x 16384 elements), as do the GEMMs.
  for (const std::int64_t batch : {std::int64_t{0}, std::int64_t{256}}) {
    INFO("batch size " << batch);
    const Fitted one = threaded_run(1, batch, {0.8, 0.9}), two = threaded_run(2, batch, {0.8, 0.9});
    CHECK(one.result.costs.back() != one.result.costs.front());  // it trained
    CHECK(same_bits(one, two));
  }
}

TEST_CASE("whole runs give the same bits on 1, 2 and 3 threads: f32 and f64, full and mini-batches, fused or not",
          "[train][gemm_bits]") {
  // Layers 16, 256, 128, 1 on 600 samples: Z1 = W1 X (256 x 600 x 16) and
  // the 256 x 128 products are cut into panels (ops/gemm_planner.hpp), and
  // OpenBLAS's own threading would change f32 bits on most x86 cores.
  // Batches of 256 leave a last batch of 88: other shapes, other panels.
  for (const DType dtype : {DType::f32, DType::f64})
    for (const std::int64_t batch : {std::int64_t{0}, std::int64_t{256}})
      for (const bool fused : {true, false}) {
        INFO(dtype_name(dtype) << ", batch size " << batch << (fused ? ", optimized graph" : ", unfused graph"));
        const Fitted one = threaded_run(1, batch, {0.8, 0.9}, dtype, fused);
        CHECK(one.result.costs.back() < one.result.costs.front());  // it trained
        for (const int threads : {2, 3}) {
          INFO(threads << " threads against 1");
          CHECK(same_bits(one, threaded_run(threads, batch, {0.8, 0.9}, dtype, fused)));
        }
      }
}
