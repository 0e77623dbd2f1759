#include "dagrad/train/synthetic.hpp"

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/init.hpp"

namespace dagrad::train {

namespace {

std::vector<double> randn(std::int64_t n, std::uint64_t seed, std::uint64_t stream) {
  std::vector<double> z(static_cast<std::size_t>(n));
  models::fill_randn(z, seed, stream);
  return z;
}

// numpy.linspace(lo, hi, n, endpoint): n evenly spaced values.
double linspace_at(double lo, double hi, std::int64_t n, std::int64_t i, bool endpoint) {
  const double div = static_cast<double>(endpoint ? n - 1 : n);
  return n <= 1 ? lo : lo + (hi - lo) * static_cast<double>(i) / div;
}

void check_m(std::int64_t m, std::string_view what) {
  if (m < 2) throw InputError(fmt::format("{}: --m {} must be at least 2", what, m));
}

// Adds noise * randn to every coordinate, then shuffles the samples.
io::Dataset noisy_shuffled(io::Dataset d, double noise, std::uint64_t seed) {
  const std::int64_t m = d.samples();
  const auto z = randn(2 * m, seed, 100);
  for (std::size_t i = 0; i < z.size(); ++i) d.X.values[i] += noise * z[i];
  std::mt19937_64 rng(seed);
  io::Dataset out = d;
  std::vector<std::int64_t> order(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i) order[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = m - 1; i > 0; --i)
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(i + 1))]);
  for (std::int64_t i = 0; i < m; ++i) {
    const std::int64_t src = order[static_cast<std::size_t>(i)];
    out.X(0, i) = d.X(0, src);
    out.X(1, i) = d.X(1, src);
    out.Y(0, i) = d.Y(0, src);
  }
  return out;
}

}  // namespace

io::Dataset make_planar(std::int64_t m, std::uint64_t seed) {
  check_m(m, "planar");
  io::Dataset d{io::Matrix({2, m}), io::Matrix({1, m}), "planar"};
  const double a = 4.0;
  std::int64_t col = 0;
  for (int j = 0; j < 2; ++j) {
    const std::int64_t N = j == 0 ? m - m / 2 : m / 2;
    // The angle noise is drawn before the radius noise, as in the recipe.
    const auto dt = randn(N, seed, 2 * j), dr = randn(N, seed, 2 * j + 1);
    for (std::int64_t i = 0; i < N; ++i, ++col) {
      const double t = linspace_at(3.12 * j, 3.12 * (j + 1), N, i, true) + 0.2 * dt[i];
      const double r = a * std::sin(4.0 * t) + 0.2 * dr[i];
      d.X(0, col) = r * std::sin(t);
      d.X(1, col) = r * std::cos(t);
      d.Y(0, col) = j;
    }
  }
  return d;
}

io::Dataset make_circles(std::int64_t m, double noise, double factor, std::uint64_t seed) {
  check_m(m, "circles");
  io::Dataset d{io::Matrix({2, m}), io::Matrix({1, m}), "circles"};
  const std::int64_t n_out = m / 2;
  for (std::int64_t i = 0; i < m; ++i) {
    const bool inner = i >= n_out;
    const std::int64_t n = inner ? m - n_out : n_out, k = inner ? i - n_out : i;
    const double s = linspace_at(0.0, 2.0 * std::numbers::pi, n, k, false);
    const double rho = inner ? factor : 1.0;
    d.X(0, i) = rho * std::cos(s);
    d.X(1, i) = rho * std::sin(s);
    d.Y(0, i) = inner ? 1.0 : 0.0;
  }
  return noisy_shuffled(std::move(d), noise, seed);
}

io::Dataset make_moons(std::int64_t m, double noise, std::uint64_t seed) {
  check_m(m, "moons");
  io::Dataset d{io::Matrix({2, m}), io::Matrix({1, m}), "moons"};
  const std::int64_t n_out = m / 2;
  for (std::int64_t i = 0; i < m; ++i) {
    const bool inner = i >= n_out;
    const std::int64_t n = inner ? m - n_out : n_out, k = inner ? i - n_out : i;
    const double s = linspace_at(0.0, std::numbers::pi, n, k, true);
    d.X(0, i) = inner ? 1.0 - std::cos(s) : std::cos(s);
    d.X(1, i) = inner ? 0.5 - std::sin(s) : std::sin(s);
    d.Y(0, i) = inner ? 1.0 : 0.0;
  }
  return noisy_shuffled(std::move(d), noise, seed);
}

io::Dataset make_dataset(std::string_view name, std::int64_t m, std::uint64_t seed, double noise) {
  if (name == "planar") return make_planar(m, seed);
  if (name == "circles") return make_circles(m, noise >= 0 ? noise : 0.05, 0.8, seed);
  if (name == "moons") return make_moons(m, noise >= 0 ? noise : 0.2, seed);
  throw InputError(fmt::format("unknown data set '{}' (use planar, circles or moons)", name));
}

}  // namespace dagrad::train
