#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/serve/inference_plan.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/session.hpp"
#include "tests/support/alloc_counter.hpp"

using namespace dagrad;
using serve::Layout;

namespace {

struct Net {
  std::vector<std::int64_t> layers;
  models::Activation hidden;
  models::Output output;
  std::vector<double> keep_prob = {};
  bool normalize = false;
};

models::Model make(const Net& n, DType dtype, std::uint64_t seed = 3) {
  models::ModelSpec s;
  s.layers = n.layers;
  s.hidden = n.hidden;
  s.output = n.output;
  s.keep_prob = n.keep_prob;
  models::Model m = models::build_mlp(s, dtype);
  m.set_init(models::Init::xavier);
  m.init_params(seed);
  // Biases away from zero, so that a bias added in the wrong place shows.
  for (Expr p : m.params()) {
    runtime::Tensor& t = m.value(p.name());
    if (t.shape().cols == 1)
      for (std::int64_t i = 0; i < t.size(); ++i) t.set(i, 0.1 * std::sin(double(i) + 1.0));
  }
  if (n.normalize) {
    models::Normalizer z;
    for (std::int64_t j = 0; j < n.layers[0]; ++j) {
      z.mu.push_back(0.25 * double(j % 5));
      z.sigma.push_back(0.5 + 0.1 * double(j % 3));
    }
    m.normalization = z;
  }
  return m;
}

// Features (n_x x m) in columns layout, deterministic and spread.
std::vector<double> features(std::int64_t n_x, std::int64_t m) {
  std::vector<double> x(static_cast<std::size_t>(n_x * m));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37 * double(i) + 0.1) * 1.5;
  return x;
}

template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class T>
std::vector<T> transposed(const std::vector<T>& v, std::int64_t rows, std::int64_t cols) {
  std::vector<T> t(v.size());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) t[std::size_t(c * rows + r)] = v[std::size_t(r * cols + c)];
  return t;
}

// The training code's forward pass: an evaluation session (the forward
// pass and the cost, the plan train::evaluate runs), fed as fit feeds.
io::Matrix session_forward(models::Model& model, const std::vector<double>& x, std::int64_t m) {
  io::Dataset d;
  d.X = io::Matrix(Shape{model.features().shape().rows, m});
  d.X.values = x;
  d.Y = io::Matrix(Shape{model.labels().shape().rows, m});  // one-hot class 0 (the cost is not read)
  for (std::int64_t s = 0; s < m; ++s) d.Y(0, s) = 1;
  d.origin = "test";
  train::Session session(model, train::Use::evaluate, m);
  train::Feeder feeder(session, train::sample_data(model, d, true), m);
  feeder.feed_range(0, m);
  session.run({.training = false, .step = 0});
  const ops::Buffer b = session.value(model.output());
  io::Matrix out(b.shape);
  for (std::int64_t i = 0; i < b.shape.size(); ++i)
    out.values[std::size_t(i)] = model.dtype() == DType::f32 ? double(b.as<const float>()[i]) : b.as<const double>()[i];
  return out;
}

// The notes' forward pass as a plain double loop over the model's values:
// A[l] = g(W[l] A[l-1] + b[l]), with (x - mu) / sigma first.
std::vector<double> loop_forward(const models::Model& model, const Net& net, const std::vector<double>& x,
                                 std::int64_t m) {
  std::vector<double> a = x;
  const std::int64_t n_x = net.layers[0];
  if (model.normalization)
    for (std::int64_t j = 0; j < n_x; ++j)
      for (std::int64_t s = 0; s < m; ++s) {
        double& v = a[std::size_t(j * m + s)];
        v = (v - model.normalization->mu[std::size_t(j)]) / model.normalization->sigma[std::size_t(j)];
      }
  const std::size_t L = net.layers.size() - 1;
  for (std::size_t l = 1; l <= L; ++l) {
    const io::Matrix W = model.value(fmt::format("W{}", l)).to_matrix();
    const io::Matrix b = model.value(fmt::format("b{}", l)).to_matrix();
    const std::int64_t n = W.rows(), k = W.cols();
    std::vector<double> z(std::size_t(n * m));
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t s = 0; s < m; ++s) {
        double acc = b(i, 0);
        for (std::int64_t j = 0; j < k; ++j) acc += W(i, j) * a[std::size_t(j * m + s)];
        z[std::size_t(i * m + s)] = acc;
      }
    const bool last = l == L;
    for (std::int64_t s = 0; s < m; ++s) {
      if (last && net.output == models::Output::softmax) {
        double top = -std::numeric_limits<double>::infinity(), sum = 0;
        for (std::int64_t i = 0; i < n; ++i) top = std::max(top, z[std::size_t(i * m + s)]);
        for (std::int64_t i = 0; i < n; ++i) sum += std::exp(z[std::size_t(i * m + s)] - top);
        for (std::int64_t i = 0; i < n; ++i)
          z[std::size_t(i * m + s)] = std::exp(z[std::size_t(i * m + s)] - top) / sum;
        continue;
      }
      for (std::int64_t i = 0; i < n; ++i) {
        double& v = z[std::size_t(i * m + s)];
        const models::Activation g = last ? models::Activation::sigmoid : net.hidden;
        if (last && net.output == models::Output::linear) continue;
        if (g == models::Activation::relu) v = v > 0 ? v : 0;
        else if (g == models::Activation::leaky_relu) v = v > 0 ? v : 0.01 * v;
        else if (g == models::Activation::tanh) v = std::tanh(v);
        else v = 1 / (1 + std::exp(-v));
      }
    }
    a = std::move(z);
  }
  return a;
}

const std::vector<Net> nets = {
    {{784, 128, 64, 10}, models::Activation::relu, models::Output::softmax},
    {{12288, 20, 7, 5, 1}, models::Activation::relu, models::Output::sigmoid},
    {{4, 16, 3}, models::Activation::tanh, models::Output::softmax},
    {{5, 8, 2}, models::Activation::leaky_relu, models::Output::linear, {}, true},
    {{6, 9, 4, 1}, models::Activation::sigmoid, models::Output::sigmoid, {0.8}},
    {{3, 32, 5, 2}, models::Activation::relu, models::Output::softmax, {}, true},
};

// Whether this call runs the fused narrow forward (serve/narrow_forward.hpp),
// whose sums run in another order than the training plan's GEMMs: in f64
// it is within 1e-13 relative of them, not bitwise the same.
bool narrow_call(const serve::InferencePlan& plan, std::int64_t m) {
  return plan.narrow() && m >= serve::InferencePlan::narrow_min_samples;
}

template <class T>
std::vector<T> run_plan(const serve::InferencePlan& plan, serve::Context& ctx, const std::vector<T>& x,
                        std::int64_t m, Layout layout) {
  std::vector<T> y(std::size_t(plan.outputs() * m));
  plan.predict(ctx, std::span<const T>(x), std::span<T>(y), layout);
  return y;
}

// |a - b| in units of the float epsilon times max(|b|, 1/16): ulps relative
// to the value, with values below 1/16 (softmax tails, a linear output that
// cancels to near 0) measured on that floor.
double float_ulps(double a, double b) {
  const double scale = std::max(std::abs(b), 1.0 / 16);
  return std::abs(a - b) / (scale * std::numeric_limits<float>::epsilon());
}

}  // namespace

// Runs check(net, model, plan, ctx, m) for every net in `dtype`, at
// batches 1, 5 (less than a narrow tile), 64 and 67 (odd; more than a
// tile), one context per net.
template <class F>
void each_case(DType dtype, F check) {
  for (const Net& net : nets) {
    models::Model model = make(net, dtype);
    const serve::InferencePlan plan(model);
    serve::Context ctx(plan);
    for (std::int64_t m : {1, 5, 64, 67}) {
      INFO(plan.describe() << ", batch " << m);
      check(net, model, plan, ctx, m);
    }
  }
}

TEST_CASE("the inference plan gives the training plan's forward bits in f64, columns layout", "[serve]") {
  each_case(DType::f64, [](const Net& net, models::Model& model, const serve::InferencePlan& plan,
                           serve::Context& ctx, std::int64_t m) {
    CHECK(plan.layered());
    CHECK(plan.narrow() == (net.layers[0] <= 32 && std::ranges::max(net.layers) <= 32));
    const std::vector<double> x = features(net.layers[0], m);
    const std::vector<double> y = run_plan<double>(plan, ctx, x, m, Layout::columns);
    const io::Matrix ref = session_forward(model, x, m);
    if (!narrow_call(plan, m)) CHECK(std::memcmp(y.data(), ref.values.data(), y.size() * sizeof(double)) == 0);
    else
      for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(ref.values[i]).epsilon(1e-13).margin(1e-15));
    // And the notes' formulas in a plain loop, to rounding.
    const std::vector<double> loop = loop_forward(model, net, x, m);
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(loop[i]).epsilon(1e-12).margin(1e-14));
  });
}

TEST_CASE("rows layout is columns layout transposed, f64 within 1e-13", "[serve]") {
  each_case(DType::f64, [](const Net& net, models::Model&, const serve::InferencePlan& plan,
                           serve::Context& ctx, std::int64_t m) {
    const std::vector<double> x = features(net.layers[0], m);
    const std::vector<double> cols = run_plan<double>(plan, ctx, x, m, Layout::columns);
    const std::vector<double> rows = run_plan<double>(plan, ctx, transposed(x, net.layers[0], m), m, Layout::rows);
    const std::vector<double> back = transposed(rows, m, plan.outputs());
    for (std::size_t i = 0; i < cols.size(); ++i) CHECK(back[i] == Approx(cols[i]).epsilon(1e-13).margin(1e-15));
  });
}

// f32: columns layout on the layer path runs the training plan's kernels
// on the same nodes, so it has its bits too; both layouts on either path
// (the narrow forward's tanh, sigmoid and softmax are ops/fast_math's)
// stay within 128 ulps (on a floor of 1/16, float_ulps) of the plain double
// loop over the same float weights and inputs. Measured here: at most 23 ulps.
// NOTE: columns and rows layouts differ in f32 by the products' rounding.
TEST_CASE("f32: the training plan's bits in columns layout, 128 ulps of a double loop in both", "[serve]") {
  each_case(DType::f32, [](const Net& net, models::Model& model, const serve::InferencePlan& plan,
                           serve::Context& ctx, std::int64_t m) {
    std::vector<double> xd = features(net.layers[0], m);
    const std::vector<float> x = as<float>(xd);
    xd.assign(x.begin(), x.end());  // the reference sees the float inputs
    const std::vector<float> cols = run_plan<float>(plan, ctx, x, m, Layout::columns);
    const std::vector<float> rows =
        transposed(run_plan<float>(plan, ctx, transposed(x, net.layers[0], m), m, Layout::rows), m, plan.outputs());
    const io::Matrix session = session_forward(model, xd, m);
    const std::vector<double> loop = loop_forward(model, net, xd, m);
    double worst = 0;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (!narrow_call(plan, m)) CHECK(double(cols[i]) == session.values[i]);
      worst = std::max({worst, float_ulps(cols[i], loop[i]), float_ulps(rows[i], loop[i])});
    }
    INFO("worst " << worst << " ulps");
    CHECK(worst <= 128);
  });
}

TEST_CASE("train::predict and Predictor serve through the plan, any number of samples", "[serve]") {
  const Net net{{5, 8, 2}, models::Activation::tanh, models::Output::softmax, {}, true};
  models::Model model = make(net, DType::f64);
  const std::int64_t m = 2500;
  const std::vector<double> x = features(5, m);
  io::Matrix X(Shape{5, m});
  X.values = x;
  const io::Matrix P = train::predict(model, X);
  train::Predictor small(model, 7);  // 358 chunks of 7 on one context
  const io::Matrix Q = small.predict(X);
  const std::vector<double> loop = loop_forward(model, net, x, m);
  REQUIRE(P.shape == Shape{2, m});
  // NOTE: not the same bits: a product of 7 columns runs in dagrad's loop,
  // one of 2500 in a library (ops::gemm), as in the training plan.
  for (std::size_t i = 0; i < loop.size(); ++i) {
    CHECK(P.values[i] == Approx(loop[i]).epsilon(1e-12));
    CHECK(Q.values[i] == Approx(loop[i]).epsilon(1e-12));
  }
  CHECK(small.context().capacity() == 7);
}

TEST_CASE("a graph that is not a chain of layers runs on an executor, in both layouts", "[serve]") {
  // A residual net with two heads: A2 = relu(W2 A1 + b2) + A1, heads P and Q.
  models::Model model(DType::f64);
  Graph& g = model.graph();
  auto X = g.input("X", {3, m_dim});
  auto Y = g.input("Y", {2, m_dim});
  auto W1 = g.param("W1", {4, 3}), b1 = g.param("b1", {4, 1});
  auto W2 = g.param("W2", {4, 4}), b2 = g.param("b2", {4, 1});
  auto W3 = g.param("W3", {2, 4}), b3 = g.param("b3", {2, 1});
  auto A1 = tanh(W1 * X + b1);
  auto A2 = relu(W2 * A1 + b2) + A1;
  auto P = sigmoid(W3 * A2 + b3);
  model.set_cost(binary_cross_entropy(P, Y));
  model.set_outputs({P, A2});
  model.init_params(5);
  serve::InferencePlan plan(model);
  CHECK_FALSE(plan.layered());
  REQUIRE(plan.outputs() == 6);
  serve::Context ctx(plan);
  const std::int64_t m = 9;
  const std::vector<double> x = features(3, m);
  const std::vector<double> cols = run_plan<double>(plan, ctx, x, m, Layout::columns);
  const std::vector<double> rows = run_plan<double>(plan, ctx, transposed(x, 3, m), m, Layout::rows);
  CHECK(transposed(rows, m, 6) == cols);
  // By hand.
  const io::Matrix w1 = model.value("W1").to_matrix(), w2 = model.value("W2").to_matrix();
  const io::Matrix w3 = model.value("W3").to_matrix();
  for (std::int64_t s = 0; s < m; ++s) {
    double a1[4], a2[4];
    for (int i = 0; i < 4; ++i) {
      double z = 0;
      for (int j = 0; j < 3; ++j) z += w1(i, j) * x[std::size_t(j * m + s)];
      a1[i] = std::tanh(z);  // biases start at zero
    }
    for (int i = 0; i < 4; ++i) {
      double z = 0;
      for (int j = 0; j < 4; ++j) z += w2(i, j) * a1[j];
      a2[i] = std::max(z, 0.0) + a1[i];
      CHECK(cols[std::size_t((2 + i) * m + s)] == Approx(a2[i]).epsilon(1e-12));
    }
    for (int i = 0; i < 2; ++i) {
      double z = 0;
      for (int j = 0; j < 4; ++j) z += w3(i, j) * a2[j];
      CHECK(cols[std::size_t(i * m + s)] == Approx(1 / (1 + std::exp(-z))).epsilon(1e-12));
    }
  }
}

TEST_CASE("one plan, a context per thread: every thread gets the one-thread bits", "[serve]") {
  for (DType dtype : {DType::f32, DType::f64}) {
    models::Model model = make(nets[0], dtype);
    const serve::InferencePlan plan(model);
    const std::int64_t m = 33;
    const std::vector<float> xf = as<float>(features(784, m));
    serve::Context ctx(plan);
    const std::vector<float> want = dtype == DType::f32 ? run_plan<float>(plan, ctx, xf, m, Layout::rows)
                                                        : std::vector<float>{};
    const std::vector<double> xd = features(784, m);
    const std::vector<double> want_d = dtype == DType::f64 ? run_plan<double>(plan, ctx, xd, m, Layout::rows)
                                                           : std::vector<double>{};
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        serve::Context mine(plan);
        for (int k = 0; k < 40; ++k) {
          if (dtype == DType::f32) mismatches[std::size_t(t)] += run_plan<float>(plan, mine, xf, m, Layout::rows) != want;
          else mismatches[std::size_t(t)] += run_plan<double>(plan, mine, xd, m, Layout::rows) != want_d;
        }
      });
    for (std::thread& th : threads) th.join();
    CHECK(mismatches == std::vector<int>(4, 0));
  }
}

TEST_CASE("the narrow forward gives the same bits on 1 and 2 threads", "[serve]") {
  // 2048 samples: the tiles are shared over 2 threads (512 samples each at least).
  const std::int64_t m = 2048;
  const int before = runtime::threads();
  for (DType dtype : {DType::f32, DType::f64}) {
    models::Model model = make(nets[5], dtype);
    const serve::InferencePlan plan(model);
    REQUIRE(plan.narrow());
    const std::vector<double> xd = transposed(features(3, m), 3, m);
    const std::vector<float> xf = as<float>(xd);
    std::vector<std::vector<unsigned char>> out;
    for (int threads : {1, 2}) {
      runtime::set_threads(threads);
      serve::Context ctx(plan);  // its tiles for this thread count
      std::vector<unsigned char> bytes;
      auto keep = [&](const auto& y) {
        const auto* p = reinterpret_cast<const unsigned char*>(y.data());
        bytes.assign(p, p + y.size() * sizeof(y[0]));
      };
      if (dtype == DType::f32) keep(run_plan<float>(plan, ctx, xf, m, Layout::rows));
      else keep(run_plan<double>(plan, ctx, xd, m, Layout::rows));
      out.push_back(bytes);
    }
    CHECK(out[0] == out[1]);
  }
  runtime::set_threads(before);
}

TEST_CASE("after the first call a context allocates nothing, in either layout", "[serve]") {
  for (const Net& net : {nets[0], nets[2], nets[3]}) {
    models::Model model = make(net, DType::f32);
    serve::InferencePlan plan(model);
    serve::Context ctx(plan);
    const std::int64_t big = 64;
    const std::vector<float> x = as<float>(features(net.layers[0], big));
    std::vector<float> y(std::size_t(plan.outputs() * big));
    plan.predict(ctx, std::span<const float>(x), std::span<float>(y), Layout::rows);  // the first call grows
    const long before = test::allocation_count();
    for (std::int64_t m : {1, 64, 17, 64, 1})
      for (Layout l : {Layout::rows, Layout::columns})
        plan.predict(ctx, std::span<const float>(x.data(), std::size_t(m * net.layers[0])),
                     std::span<float>(y.data(), std::size_t(m * plan.outputs())), l);
    CHECK(test::allocation_count() - before == 0);
    CHECK(ctx.capacity() == big);
  }
}

TEST_CASE("bad spans are one-line errors naming the span and the sizes", "[serve]") {
  models::Model model = make(nets[2], DType::f32);  // 4-16-3
  serve::InferencePlan plan(model);
  serve::Context ctx(plan);
  std::vector<float> x(8), y(6), y_short(5);
  std::vector<double> xd(8), yd(6);
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  using CF = std::span<const float>;
  const std::string no_samples = message([&] { plan.predict(ctx, CF(x.data(), 7), std::span<float>(y)); });
  CHECK(no_samples.find("x holds 7 values") != std::string::npos);
  CHECK(no_samples.find("4 features") != std::string::npos);
  const std::string empty = message([&] { plan.predict(ctx, CF(), std::span<float>(y)); });
  CHECK(empty.find("x holds 0 values") != std::string::npos);
  const std::string wrong_y = message([&] { plan.predict(ctx, CF(x), std::span<float>(y_short)); });
  CHECK(wrong_y.find("y holds 5 values, but 2 samples of 3 outputs need 6") != std::string::npos);
  CHECK(wrong_y.find("y is 2x3") != std::string::npos);
  const std::string dtype = message([&] {
    plan.predict(ctx, std::span<const double>(xd), std::span<double>(yd));
  });
  CHECK(dtype.find("computes in f32") != std::string::npos);
  models::Model other = make(nets[2], DType::f32);
  serve::InferencePlan plan2(other);
  const std::string foreign = message([&] { plan2.predict(ctx, CF(x), std::span<float>(y)); });
  CHECK(foreign.find("another plan") != std::string::npos);
  for (const std::string& s : {no_samples, empty, wrong_y, dtype, foreign}) CHECK(s.find('\n') == std::string::npos);
  // A good call still works after the refused ones.
  plan.predict(ctx, CF(x), std::span<float>(y));
  for (float v : y) CHECK(std::isfinite(v));
}
