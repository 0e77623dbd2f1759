#include "cli/bench_data.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dagrad/models/init.hpp"

namespace dagrad::cli {

// Synthetic X ~ N(0, 1) and labels for the output: a class (softmax, one
// row, made one-hot by the feeder), or n[L] rows of 0/1 labels (sigmoid) or
// of real values (linear).
io::Dataset make_data(const BenchOptions& o, std::int64_t samples) {
  const std::int64_t n0 = o.spec.layers.front(), K = o.spec.layers.back();
  const std::int64_t rows = o.spec.output == "softmax" ? 1 : K;
  io::Dataset d{io::Matrix({n0, samples}), io::Matrix({rows, samples}), "bench data"};
  std::vector<double> r(static_cast<std::size_t>(n0 * samples)), u(static_cast<std::size_t>(rows * samples));
  models::fill_randn(r, o.spec.seed, 1);
  models::fill_randn(u, o.spec.seed, 2);
  std::copy(r.begin(), r.end(), d.X.values.begin());
  for (std::int64_t j = 0; j < samples; ++j) {
    for (std::int64_t k = 0; k < rows; ++k) {
      const double v = u[std::size_t(j * rows + k)];
      if (o.spec.output == "softmax") d.Y(k, j) = double(static_cast<std::int64_t>(std::abs(v) * 1000) % K);
      else if (o.spec.output == "linear") d.Y(k, j) = v;
      else d.Y(k, j) = v > 0 ? 1.0 : 0.0;
    }
  }
  return d;
}

// This process's columns [lo, hi) of the synthetic global batch: X ~ N(0, 1)
// and class labels drawn from the seed, the same whatever the process count.
io::Dataset batch_part(const BenchOptions& o, std::int64_t lo, std::int64_t hi) {
  const std::int64_t n0 = o.spec.layers.front(), classes = std::max<std::int64_t>(o.spec.layers.back(), 2);
  std::vector<double> x(static_cast<std::size_t>(n0 * o.m)), u(static_cast<std::size_t>(o.m));
  models::fill_randn(x, o.spec.seed, 1);
  models::fill_randn(u, o.spec.seed, 2);
  io::Dataset d;
  d.origin = "synthetic batch";
  d.X = io::Matrix(Shape{n0, hi - lo});
  d.Y = io::Matrix(Shape{1, hi - lo});
  for (std::int64_t j = lo; j < hi; ++j) {
    for (std::int64_t k = 0; k < n0; ++k) d.X(k, j - lo) = x[static_cast<std::size_t>(j * n0 + k)];
    const double v = u[static_cast<std::size_t>(j)];
    d.Y(0, j - lo) = classes == 2 ? (v > 0 ? 1.0 : 0.0) : double(static_cast<std::int64_t>(std::abs(v) * 1000) % classes);
  }
  return d;
}

}  // namespace dagrad::cli
