// The parts of dagrad bench (cli/bench.cpp) that its other files share:
// its options, the clock and the median, and the optimizer of the timed step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "cli/model_spec.hpp"
#include "dagrad/train/optimizer.hpp"

namespace dagrad::cli {

struct BenchOptions {
  SpecOptions spec;
  OptimizerFlags optimizer;   // gd unless --optimizer
  std::int64_t m = 256;
  std::int64_t batch_size = 0;  // > 0: mini-batches of a data set of `samples`
  std::int64_t samples = 0;
  int steps = 50;
  int warmup = 3;
  bool no_opt = false;
  bool profile = false;
  bool json = false;
  double bucket_mb = 25;  // data-parallel runs: the gradient buckets' size
};

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * double(v.size() - 1) + 0.5)];
}

// --optimizer's config, gd when none is given.
train::OptimizerConfig optimizer_config(const BenchOptions& o);

}  // namespace dagrad::cli
