// dagrad bench under mpirun: a data-parallel training step timed (its
// slowest process), and the sum of every gradient alone.
#pragma once

#include "cli/bench.hpp"

namespace dagrad::cli {

int run_bench_data_parallel(const BenchOptions& o);

}  // namespace dagrad::cli
