// Whole training runs of train::fit against a training loop written here in
// plain loops, in f64, from the notes' formulas: forward, cost, backward and
// the optimizer's update, step after step, with learning-rate decay, L2,
// inverted dropout, tanh, relu, leaky relu and sigmoid hidden units, the
// sigmoid + cross-entropy, softmax + categorical cross-entropy and linear +
// squared-error outputs, and mini-batches with a partial last batch. Every
// parameter and every recorded cost must agree to 1e-12 (relative to
// max(1, |value|)), with the graph optimizations on (these nets are narrow:
// the fused_net kernel, passes/fuse_net.cpp) and off (the op-by-op plan).
// Also: a whole run gives the same bits with 1 and with 2 threads (f64), and
// with 1, 2 and 3 in f32 and f64, full and mini-batches, fused or not.
//
// The only things taken from dagrad are which samples make each mini-batch
// (reference_batches below) and which units a dropout mask keeps
// (reference_keeps), since those are choices, not formulas.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "dagrad/ops/dropout_bits.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/train/fit.hpp"

using namespace dagrad;

namespace {

using Vec = std::vector<double>;

// ---- the data and the start ---------------------------------------------------

// Labels: 0/1 for a sigmoid output, a class number 0..K-1 for softmax (fit
// makes them one-hot), K real values for a linear output.
io::Dataset data_set(std::int64_t n0, std::int64_t m, models::Output out = models::Output::sigmoid,
                     std::int64_t K = 1) {
  io::Dataset d;
  d.origin = "reference";
  d.X = io::Matrix({n0, m});
  d.Y = io::Matrix({out == models::Output::linear ? K : 1, m});
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t k = 0; k < n0; ++k) d.X(k, i) = std::sin(1.3 * double(i + 1) + 0.7 * double(k)) * (1.0 + 0.1 * double(k));
    switch (out) {
      case models::Output::sigmoid: d.Y(0, i) = (i * 7 + 3) % 5 < 2 ? 1.0 : 0.0; break;
      case models::Output::softmax: d.Y(0, i) = double((i * 5 + 1) % K); break;
      case models::Output::linear:
        for (std::int64_t k = 0; k < K; ++k) d.Y(k, i) = 0.8 * d.X(0, i) - 0.3 * double(k) + 0.1 * std::cos(double(i));
        break;
    }
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
  std::uint64_t seed = 5;                               // the model's: mini-batch shuffles
  models::Output output = models::Output::sigmoid;
  double keep_prob = 1.0;                               // every hidden layer
  double slope = 0.01;                                  // leaky relu
  std::uint64_t mask_seed = 7;                          // ModelSpec::seed: dropout masks
  bool fused = true;                                    // the graph optimizations on or off
};

// The samples of every mini-batch of every epoch, in the order fit visits
// them. NOTE: the one place that knows how fit draws batches (a
// BatchSampler seeded with the seed mixed with this constant, whose epoch e
// permutation depends on (seed, e) alone); when fit's sampling changes,
// change this helper alone.
std::vector<std::vector<std::vector<std::int64_t>>> reference_batches(std::int64_t m, std::int64_t B,
                                                                      std::int64_t epochs, std::uint64_t seed) {
  train::BatchSampler sampler(m, B, train::shuffle_seed(seed));
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

// Whether the dropout mask of hidden layer l (1-based) keeps unit r of data
// set sample `sample` at update `step` (0-based). NOTE: the one place that
// knows how dagrad draws masks (models/mlp.cpp's mask seed, Philox words as
// ops/dropout_bits.hpp lays them out, the model's step count before the
// update); when that changes, change this helper alone.
bool reference_keeps(const Setup& s, std::size_t l, std::size_t r, std::int64_t sample, std::int64_t step) {
  const ops::DropoutKey key = ops::dropout_key(s.mask_seed * 1000003u + l, static_cast<std::uint64_t>(step));
  const auto words = ops::dropout_words(key, static_cast<std::uint64_t>(sample), static_cast<std::int64_t>(r / 4));
  return words[r % 4] < ops::dropout_threshold(s.keep_prob);
}

// g(z) and g'(z), the latter from z and y = g(z).
double g_of(const Setup& s, double z) {
  switch (s.hidden) {
    case models::Activation::tanh: return std::tanh(z);
    case models::Activation::sigmoid: return 1.0 / (1.0 + std::exp(-z));
    case models::Activation::relu: return z > 0 ? z : 0.0;
    case models::Activation::leaky_relu: return z > 0 ? z : s.slope * z;
  }
  return 0;
}
double dg_of(const Setup& s, double z, double y) {
  switch (s.hidden) {
    case models::Activation::tanh: return 1.0 - y * y;
    case models::Activation::sigmoid: return y * (1.0 - y);
    case models::Activation::relu: return z > 0 ? 1.0 : 0.0;
    case models::Activation::leaky_relu: return z > 0 ? 1.0 : s.slope;
  }
  return 0;
}

// The output layer's A[L] from Z[L] (K x mb), its cost summed over the
// samples (before the 1/mb), and the targets Y (K x mb).
//   sigmoid: a = 1/(1+e^-z),  J_j = softplus(z) - y z   (the cross-entropy, from z)
//   softmax: a_k = e^z_k / sum_i e^z_i,  J_j = -sum_k y_k log a_k, y one-hot
//   linear:  a = z,  J_j = 1/2 sum_k (a_k - y_k)^2
// Each makes dJ/dZ[L] = 1/mb (A[L] - Y).
double output_layer(const Setup& s, const std::vector<Vec>& Z, const io::Dataset& d,
                    const std::vector<std::int64_t>& cols, std::vector<Vec>& A, std::vector<Vec>& Y) {
  const std::size_t K = Z.size(), mb = cols.size();
  A.assign(K, Vec(mb));
  Y.assign(K, Vec(mb, 0.0));
  double J = 0;
  for (std::size_t j = 0; j < mb; ++j) {
    switch (s.output) {
      case models::Output::sigmoid: {
        const double z = Z[0][j], y = d.Y(0, cols[j]);
        A[0][j] = 1.0 / (1.0 + std::exp(-z));
        Y[0][j] = y;
        J += std::max(z, 0.0) - y * z + std::log1p(std::exp(-std::abs(z)));
        break;
      }
      case models::Output::softmax: {
        double top = Z[0][j], sum = 0;
        for (std::size_t k = 1; k < K; ++k) top = std::max(top, Z[k][j]);
        for (std::size_t k = 0; k < K; ++k) sum += std::exp(Z[k][j] - top);
        const auto label = static_cast<std::size_t>(d.Y(0, cols[j]));
        for (std::size_t k = 0; k < K; ++k) A[k][j] = std::exp(Z[k][j] - top) / sum;
        Y[label][j] = 1.0;
        J -= Z[label][j] - top - std::log(sum);  // -log a_label
        break;
      }
      case models::Output::linear:
        for (std::size_t k = 0; k < K; ++k) {
          A[k][j] = Z[k][j];
          Y[k][j] = d.Y(std::int64_t(k), cols[j]);
          J += 0.5 * (A[k][j] - Y[k][j]) * (A[k][j] - Y[k][j]);
        }
        break;
    }
  }
  return J;
}

// One forward and backward pass over the columns `cols` at update `step`:
// the cost J and the gradients dW, db (the notes' formulas, with L2 on the
// W and inverted dropout after each hidden activation).
double cost_and_gradients(const Setup& s, const Net& net, const io::Dataset& d, const std::vector<std::int64_t>& cols,
                          std::int64_t step, Net& grad) {
  const std::size_t L = net.W.size(), mb = cols.size();
  // [layer][unit][sample]: A[l] is the activation before dropout, Ad[l] the
  // one the next layer reads (A[l] D[l] / keep_prob), D[l] the mask.
  std::vector<std::vector<Vec>> Z(L), A(L + 1), Ad(L + 1), D(L + 1);
  Ad[0].assign(static_cast<std::size_t>(s.layers[0]), Vec(mb));
  for (std::size_t k = 0; k < Ad[0].size(); ++k)
    for (std::size_t j = 0; j < mb; ++j) Ad[0][k][j] = d.X(std::int64_t(k), cols[j]);
  for (std::size_t l = 0; l + 1 < L; ++l) {
    const std::size_t rows = static_cast<std::size_t>(s.layers[l + 1]), in = static_cast<std::size_t>(s.layers[l]);
    Z[l].assign(rows, Vec(mb));
    A[l + 1].assign(rows, Vec(mb));
    Ad[l + 1].assign(rows, Vec(mb));
    D[l + 1].assign(rows, Vec(mb, 1.0));
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < mb; ++j) {
        double z = net.b[l][r];
        for (std::size_t k = 0; k < in; ++k) z += net.W[l][r * in + k] * Ad[l][k][j];
        Z[l][r][j] = z;
        A[l + 1][r][j] = g_of(s, z);
        if (s.keep_prob < 1.0) D[l + 1][r][j] = reference_keeps(s, l + 1, r, cols[j], step) ? 1.0 : 0.0;
        Ad[l + 1][r][j] = s.keep_prob < 1.0 ? A[l + 1][r][j] * D[l + 1][r][j] / s.keep_prob : A[l + 1][r][j];
      }
  }
  {
    const std::size_t l = L - 1, rows = static_cast<std::size_t>(s.layers[L]), in = static_cast<std::size_t>(s.layers[l]);
    Z[l].assign(rows, Vec(mb));
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < mb; ++j) {
        double z = net.b[l][r];
        for (std::size_t k = 0; k < in; ++k) z += net.W[l][r * in + k] * Ad[l][k][j];
        Z[l][r][j] = z;
      }
  }
  std::vector<Vec> Y;
  // J = 1/mb sum_j J_j + lambda/(2 mb) sum ||W||^2
  double J = output_layer(s, Z[L - 1], d, cols, A[L], Y), penalty = 0;
  for (const Vec& w : net.W)
    for (double v : w) penalty += v * v;
  J = J / double(mb) + s.l2 / (2.0 * double(mb)) * penalty;
  // dZ[L] = A[L] - Y; dW = 1/mb dZ A^T + lambda/mb W; db = 1/mb sum dZ;
  // dA[l] = W^T dZ, times D[l] / keep_prob; dZ[l] = dA[l] * g'(Z[l])
  std::vector<Vec> dZ(A[L].size(), Vec(mb));
  for (std::size_t r = 0; r < dZ.size(); ++r)
    for (std::size_t j = 0; j < mb; ++j) dZ[r][j] = A[L][r][j] - Y[r][j];
  grad = net;
  for (std::size_t l = L; l-- > 0;) {
    const std::size_t rows = dZ.size(), in = static_cast<std::size_t>(s.layers[l]);
    for (std::size_t r = 0; r < rows; ++r) {
      double db = 0;
      for (std::size_t j = 0; j < mb; ++j) db += dZ[r][j];
      grad.b[l][r] = db / double(mb);
      for (std::size_t k = 0; k < in; ++k) {
        double dw = 0;
        for (std::size_t j = 0; j < mb; ++j) dw += dZ[r][j] * Ad[l][k][j];
        grad.W[l][r * in + k] = dw / double(mb) + s.l2 / double(mb) * net.W[l][r * in + k];
      }
    }
    if (l == 0) break;
    std::vector<Vec> prev(in, Vec(mb));
    for (std::size_t k = 0; k < in; ++k)
      for (std::size_t j = 0; j < mb; ++j) {
        double da = 0;
        for (std::size_t r = 0; r < rows; ++r) da += net.W[l][r * in + k] * dZ[r][j];
        if (s.keep_prob < 1.0) da = da * D[l][k][j] / s.keep_prob;
        prev[k][j] = da * dg_of(s, Z[l - 1][k][j], A[l][k][j]);
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
      r.costs.push_back(cost_and_gradients(s, r.net, d, cols, t, grad));
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
  spec.output = s.output;
  spec.l2 = s.l2;
  if (s.keep_prob < 1.0) spec.keep_prob = {s.keep_prob};
  spec.leaky_slope = s.slope;
  spec.seed = s.mask_seed;
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
  if (!s.fused) o.passes = passes::PassOptions::none();
  return fit_model(m, d, o);
}

bool close(double got, double want) { return std::abs(got - want) <= 1e-12 * std::max(1.0, std::abs(want)); }

void compare_one(const Setup& s, const io::Dataset& d, const Reference& ref) {
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

// The reference against fit, with the graph optimizations on and off.
void compare(Setup s, const io::Dataset& d) {
  const Reference ref = reference_run(s, d);
  for (const bool fused : {true, false}) {
    INFO((fused ? "optimized graph" : "unoptimized graph"));
    s.fused = fused;
    compare_one(s, d, ref);
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

TEST_CASE("whole runs agree with the reference: dropout, softmax, squared error, leaky relu, sigmoid units", "[train]") {
  SECTION("inverted dropout in both hidden layers, Adam, mini-batches of 4 (4, 4, 4)") {
    compare({.layers = {3, 6, 5, 1}, .optimizer = train::OptimizerKind::adam, .lr = 0.02, .epochs = 4, .batch = 4,
             .keep_prob = 0.7},
            data_set(3, 12));
  }
  SECTION("softmax over 3 classes with the categorical cross-entropy, relu, L2") {
    compare({.layers = {3, 5, 3}, .hidden = models::Activation::relu, .lr = 0.3, .l2 = 0.2, .iterations = 20,
             .output = models::Output::softmax},
            data_set(3, 12, models::Output::softmax, 3));
  }
  SECTION("a linear output of 2 units with the squared error, leaky relu, mini-batches of 5 (5, 5, 2)") {
    compare({.layers = {3, 6, 4, 2}, .hidden = models::Activation::leaky_relu, .optimizer = train::OptimizerKind::momentum,
             .lr = 0.05, .epochs = 5, .batch = 5, .output = models::Output::linear, .slope = 0.1},
            data_set(3, 12, models::Output::linear, 2));
  }
  SECTION("sigmoid hidden units, softmax, dropout, RMSprop") {
    compare({.layers = {4, 7, 4}, .hidden = models::Activation::sigmoid, .optimizer = train::OptimizerKind::rmsprop,
             .lr = 0.01, .iterations = 15, .output = models::Output::softmax, .keep_prob = 0.8},
            data_set(4, 12, models::Output::softmax, 4));
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
