// dagrad bench's synthetic data: X ~ N(0, 1) and labels drawn from the seed.
#pragma once

#include <cstdint>

#include "cli/bench.hpp"
#include "dagrad/io/dataset.hpp"

namespace dagrad::cli {

// `samples` samples and labels for the output: 0/1 (sigmoid), a class
// (softmax, made one-hot by the feeder) or a real value (linear).
io::Dataset make_data(const BenchOptions& o, std::int64_t samples);
// This process's columns [lo, hi) of the global batch of --m samples: class
// labels, the same whatever the process count.
io::Dataset batch_part(const BenchOptions& o, std::int64_t lo, std::int64_t hi);

}  // namespace dagrad::cli
