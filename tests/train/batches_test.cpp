#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "dagrad/models/normalize.hpp"
#include "dagrad/train/batches.hpp"

using namespace dagrad;

TEST_CASE("mini-batches cover each sample exactly once per epoch", "[train]") {
  train::BatchSampler s(10, 4, 5);
  REQUIRE(s.batches() == 3);
  std::vector<std::int64_t> first;
  for (int epoch = 0; epoch < 3; ++epoch) {
    s.start_epoch(epoch);
    std::vector<std::int64_t> seen;
    for (std::int64_t k = 0; k < s.batches(); ++k) {
      const auto b = s.batch(k);
      CHECK(b.size() == (k < 2 ? 4u : 2u));  // the last partial batch is kept
      seen.insert(seen.end(), b.begin(), b.end());
    }
    if (epoch == 0) first = seen;
    else CHECK(seen != first);  // reshuffled
    std::sort(seen.begin(), seen.end());
    for (std::int64_t i = 0; i < 10; ++i) CHECK(seen[static_cast<std::size_t>(i)] == i);
  }
}

TEST_CASE("an epoch's permutation depends on the seed and the epoch alone", "[train]") {
  // A resumed run (or another process) that starts at epoch 5 draws what an
  // uninterrupted run draws there.
  auto perm = [](train::BatchSampler& s, int epoch) {
    s.start_epoch(epoch);
    const auto b = s.batch(0);
    return std::vector<std::int64_t>(b.begin(), b.end());
  };
  train::BatchSampler walked(100, 100, 9), jumped(100, 100, 9), other(100, 100, 10);
  std::vector<std::int64_t> at5;
  for (int e = 0; e <= 5; ++e) at5 = perm(walked, e);
  CHECK(perm(jumped, 5) == at5);
  CHECK(perm(jumped, 4) != at5);
  CHECK(perm(other, 5) != at5);
}

TEST_CASE("gather_columns copies the batch's columns", "[train]") {
  const std::vector<double> X{0, 1, 2, 3, 10, 11, 12, 13};  // 2 x 4
  const std::vector<std::int64_t> idx{3, 0};
  std::vector<double> out(4);
  train::gather_columns(X.data(), 2, 4, std::span<const std::int64_t>(idx), out.data());
  CHECK(out == std::vector<double>{3, 0, 13, 10});
}

TEST_CASE("gather_samples copies the batch's columns from sample-major data", "[train]") {
  const std::vector<double> by_sample{0, 10, 1, 11, 2, 12, 3, 13};  // the 2 x 4 X above, transposed
  const std::vector<std::int64_t> idx{3, 0, 2};
  std::vector<double> out(6);
  train::gather_samples(by_sample.data(), 2, std::span<const std::int64_t>(idx), out.data());
  CHECK(out == std::vector<double>{3, 0, 2, 13, 10, 12});
}

TEST_CASE("normalization applies the training mu and sigma to the test set", "[train]") {
  io::Matrix train_X({2, 4});
  train_X.values = {1, 2, 3, 4, 5, 5, 5, 5};  // feature 2 is constant
  io::Matrix test_X({2, 1});
  test_X.values = {5, 7};
  const auto z = models::Normalizer::fit(train_X);
  // mu = 2.5, sigma = sqrt(((1.5)^2 + (0.5)^2) * 2 / 4) = sqrt(1.25)
  CHECK(z.mu[0] == 2.5);
  CHECK(z.sigma[0] == Approx(std::sqrt(1.25)));
  z.apply(test_X);
  CHECK(test_X(0, 0) == Approx((5 - 2.5) / std::sqrt(1.25)));
  CHECK(test_X(1, 0) == 2.0);  // constant feature: centred only
  io::NamedMatrices named = z.to_named();
  named.insert(named.begin(), {"W1", io::Matrix({1, 2})});
  const auto back = models::Normalizer::extract(named, "p.npz");
  REQUIRE(back);
  CHECK(back->mu == z.mu);
  CHECK(named.size() == 1);
}
