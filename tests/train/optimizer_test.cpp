#include <catch2/catch.hpp>

#include <cmath>

#include "dagrad/train/optimizer.hpp"

using namespace dagrad;

namespace {

// One 1x2 parameter w = [1, -2] and its gradient buffer.
struct Case {
  std::vector<runtime::Tensor> w;
  std::vector<double> g{0.5, -0.25};
  Case() : w{runtime::Tensor(DType::f64, {1, 2})} {
    w[0].set(0, 1.0);
    w[0].set(1, -2.0);
  }
  std::vector<ops::Buffer> grads() { return {ops::Buffer{g.data(), {1, 2}}}; }
};

train::OptimizerConfig config(train::OptimizerKind k) {
  train::OptimizerConfig c;
  c.kind = k;
  return c;  // beta1 0.9, beta2 0.999, epsilon 1e-8
}

}  // namespace

TEST_CASE("a gradient descent step is W - lr dW", "[train]") {
  Case c;
  train::Optimizer opt(config(train::OptimizerKind::gd), c.w);
  opt.step(c.w, c.grads(), 0.1);
  CHECK(c.w[0].get(0) == 1.0 - 0.1 * 0.5);
  CHECK(c.w[0].get(1) == -2.0 + 0.1 * 0.25);
}

TEST_CASE("a momentum step matches the hand computation", "[train]") {
  Case c;
  train::Optimizer opt(config(train::OptimizerKind::momentum), c.w);
  opt.step(c.w, c.grads(), 0.1);
  // v = 0.1 g = [0.05, -0.025]; w - 0.1 v = [0.995, -1.9975]
  CHECK(c.w[0].get(0) == Approx(0.995).epsilon(1e-15));
  CHECK(c.w[0].get(1) == Approx(-1.9975).epsilon(1e-15));
  opt.step(c.w, c.grads(), 0.1);
  // v = 0.9 [0.05, -0.025] + 0.1 g = [0.095, -0.0475]
  CHECK(c.w[0].get(0) == Approx(0.995 - 0.0095).epsilon(1e-15));
  CHECK(c.w[0].get(1) == Approx(-1.9975 + 0.00475).epsilon(1e-15));
}

TEST_CASE("an RMSprop step matches the hand computation", "[train]") {
  Case c;
  train::Optimizer opt(config(train::OptimizerKind::rmsprop), c.w);
  opt.step(c.w, c.grads(), 0.1);
  // s = 0.001 g^2, so dW / sqrt(s) = sign(g) / sqrt(0.001) = +-31.6227766...
  const double step0 = 0.1 * 0.5 / (std::sqrt(0.001 * 0.25) + 1e-8);
  const double step1 = 0.1 * 0.25 / (std::sqrt(0.001 * 0.0625) + 1e-8);
  CHECK(c.w[0].get(0) == Approx(1.0 - step0).epsilon(1e-14));
  CHECK(c.w[0].get(1) == Approx(-2.0 + step1).epsilon(1e-14));
  CHECK(step0 == Approx(3.16227766).epsilon(1e-5));  // eps = 1e-8 shifts the 7th digit
}

TEST_CASE("Adam steps match the hand computation with bias correction", "[train]") {
  Case c;
  train::Optimizer opt(config(train::OptimizerKind::adam), c.w);
  opt.step(c.w, c.grads(), 0.01);
  // t = 1: v^ = g, s^ = g^2, so the step is lr g / (|g| + eps) ~ lr sign(g).
  CHECK(c.w[0].get(0) == Approx(1.0 - 0.01 * 0.5 / (0.5 + 1e-8)).epsilon(1e-15));
  CHECK(c.w[0].get(1) == Approx(-2.0 + 0.01 * 0.25 / (0.25 + 1e-8)).epsilon(1e-15));
  // t = 2 with g2 = [0.1, -0.25]:
  //   v = 0.9 * 0.05 + 0.1 * 0.1 = 0.055,     v^ = 0.055 / 0.19
  //   s = 0.999 * 0.00025 + 0.001 * 0.01 = 0.00025975, s^ = s / (1 - 0.998001)
  c.g = {0.1, -0.25};
  const double w0 = c.w[0].get(0), w1 = c.w[0].get(1);
  opt.step(c.w, c.grads(), 0.01);
  const double v_hat = 0.055 / 0.19, s_hat = 0.00025975 / 0.001999;
  CHECK(c.w[0].get(0) == Approx(w0 - 0.01 * v_hat / (std::sqrt(s_hat) + 1e-8)).epsilon(1e-12));
  // Second component: the same gradient twice gives v^ = g, s^ = g^2 again.
  CHECK(c.w[0].get(1) == Approx(w1 + 0.01 * 0.25 / (0.25 + 1e-8)).epsilon(1e-12));
  CHECK(opt.updates() == 2);
}
