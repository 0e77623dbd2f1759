// The derived gradients of the notes' networks equal the notes' closed-form
// backprop, computed here independently with plain loops:
//
//   dZ[L] = A[L] - Y
//   dW[l] = 1/m dZ[l] A[l-1]^T + lambda/m W[l],   db[l] = 1/m sum_i dZ[l]
//   dA[l-1] = W[l]^T dZ[l], then dA *= D / keep_prob (dropout)
//   dZ[l] = dA[l] * g'(Z[l])     tanh: 1 - A^2,  relu: Z > 0
//
// The dropout masks D are read back from the executor (the same run).
#include <catch2/catch.hpp>

#include <cmath>

#include <fmt/format.h>

#include "dagrad/dagrad.hpp"
#include "tests/autodiff/autodiff_test_util.hpp"
#include "dagrad/models/init.hpp"

using namespace dagrad;
using M = io::Matrix;

namespace {

M matmul_loops(const M& a, bool ta, const M& b, bool tb) {
  const std::int64_t n = ta ? a.cols() : a.rows(), k = ta ? a.rows() : a.cols();
  const std::int64_t p = tb ? b.rows() : b.cols();
  M out({n, p});
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < p; ++j) {
      double s = 0;
      for (std::int64_t t = 0; t < k; ++t) s += (ta ? a(t, i) : a(i, t)) * (tb ? b(j, t) : b(t, j));
      out(i, j) = s;
    }
  return out;
}

struct Net {
  models::ModelSpec spec;
  std::int64_t m;
  autodiff::Feeds feeds;
  const M& get(const std::string& name) const {
    for (const auto& [n, v] : feeds)
      if (n == name) return v;
    throw std::runtime_error(name);
  }
};

// The notes' forward and backward passes with loops; masks D[l] given.
std::vector<M> closed_form(const Net& net, const std::vector<M>& D) {
  const int L = net.spec.depth();
  const double m = static_cast<double>(net.m);
  std::vector<M> Z(L + 1), A(L + 1);
  A[0] = net.get("X");
  for (int l = 1; l <= L; ++l) {
    const M& W = net.get(fmt::format("W{}", l));
    const M& b = net.get(fmt::format("b{}", l));
    Z[l] = matmul_loops(W, false, A[l - 1], false);
    A[l] = Z[l];
    for (std::int64_t i = 0; i < Z[l].rows(); ++i)
      for (std::int64_t j = 0; j < Z[l].cols(); ++j) {
        const double z = Z[l](i, j) += b(i, 0);
        const bool tanh_layer = net.spec.hidden == models::Activation::tanh;
        A[l](i, j) = l == L ? 1 / (1 + std::exp(-z)) : tanh_layer ? std::tanh(z) : std::max(z, 0.0);
        if (l < L && !D.empty()) A[l](i, j) *= D[l - 1](i, j) / net.spec.keep_prob_of(l);
      }
  }
  std::vector<M> grads(2 * L);
  M dZ = A[L];
  for (std::int64_t j = 0; j < dZ.cols(); ++j) dZ(0, j) -= net.get("Y")(0, j);
  for (int l = L; l >= 1; --l) {
    const M& W = net.get(fmt::format("W{}", l));
    M dW = matmul_loops(dZ, false, A[l - 1], true), db({dZ.rows(), 1});
    for (std::size_t i = 0; i < dW.values.size(); ++i)
      dW.values[i] = dW.values[i] / m + net.spec.l2 / m * W.values[i];
    for (std::int64_t i = 0; i < dZ.rows(); ++i)
      for (std::int64_t j = 0; j < dZ.cols(); ++j) db(i, 0) += dZ(i, j) / m;
    grads[2 * (l - 1)] = dW;
    grads[2 * (l - 1) + 1] = db;
    if (l == 1) break;
    M dA = matmul_loops(W, true, dZ, false);
    for (std::int64_t i = 0; i < dA.rows(); ++i)
      for (std::int64_t j = 0; j < dA.cols(); ++j) {
        if (!D.empty()) dA(i, j) *= D[l - 2](i, j) / net.spec.keep_prob_of(l - 1);
        const double z = Z[l - 1](i, j), t = std::tanh(z);
        dA(i, j) *= net.spec.hidden == models::Activation::tanh ? 1 - t * t : (z > 0 ? 1.0 : 0.0);
      }
    dZ = dA;
  }
  return grads;
}

void compare(const models::ModelSpec& spec, std::int64_t m) {
  Graph g;
  const models::Mlp model = models::build_mlp(g, spec, m);
  const auto grads = gradients(model.J, model.params());
  Net net{spec, m, {}};
  std::mt19937_64 rng(5);
  net.feeds.emplace_back("X", test::random_matrix(model.X.shape(), rng));
  net.feeds.emplace_back("Y", test::random_matrix(model.Y.shape(), rng, test::Fill::binary));
  const auto init = models::init_params(model, models::Init::he, 3, DType::f64);
  for (std::size_t k = 0; k < init.size(); ++k) {
    M v = init[k].to_matrix();
    for (double& x : v.values) x += 0.1 * (static_cast<double>(rng() % 1000) / 1000.0 - 0.5);
    net.feeds.emplace_back(model.params()[k].name(), v);
  }
  std::vector<NodeId> outs;
  for (Expr d : grads) outs.push_back(d.id);
  std::vector<NodeId> masks;
  for (int l = 1; l < spec.depth(); ++l)
    if (auto D = g.find(fmt::format("D{}", l))) masks.push_back(*D);
  outs.insert(outs.end(), masks.begin(), masks.end());
  const auto values = test::evaluate(g, net.feeds, outs, runtime::RunOptions{true, 11, false});
  const std::vector<M> D(values.begin() + static_cast<long>(grads.size()), values.end());
  for (const M& mask : D)  // the masks really drop units, so their reuse is exercised
    CHECK(std::ranges::count(mask.values, 0.0) > 0);
  const std::vector<M> expected = closed_form(net, D);
  for (std::size_t k = 0; k < grads.size(); ++k) {
    INFO("d" << model.params()[k].name());
    REQUIRE(values[k].shape == expected[k].shape);
    for (std::size_t i = 0; i < expected[k].values.size(); ++i)
      CHECK(values[k].values[i] == Approx(expected[k].values[i]).epsilon(1e-12).margin(1e-15));
  }
}

}  // namespace

TEST_CASE("2-layer tanh network: derived gradients equal the notes' formulas", "[autodiff]") {
  models::ModelSpec s;
  s.layers = {2, 4, 1};
  s.hidden = models::Activation::tanh;
  compare(s, 7);
}

TEST_CASE("L-layer relu network with L2 and dropout: derived gradients equal the notes' formulas",
          "[autodiff]") {
  models::ModelSpec s;
  s.layers = {4, 5, 3, 1};
  s.hidden = models::Activation::relu;
  s.l2 = 0.7;
  s.keep_prob = {0.8, 0.6};
  compare(s, 9);
  s.keep_prob.clear();
  s.hidden = models::Activation::tanh;
  compare(s, 6);
}
