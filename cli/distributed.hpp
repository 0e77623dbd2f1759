// The command line's side of data-parallel runs (`mpirun -np N dagrad
// train ...`, dist/comm.hpp): one process, rank 0, prints and writes the
// outputs; every process reads its own shard and takes part in every sum.
#pragma once

#include <CLI/CLI.hpp>

namespace dagrad::cli {

// Rank 0 of the job, or the only process: the one that prints and writes.
bool is_root();
// --bucket-mb: the size of the gradient buckets summed over processes.
void add_bucket_option(CLI::App* cmd, double& bucket_mb);
// With DAGRAD_PID_DIR set, writes this process's pid to
// $DAGRAD_PID_DIR/rank<r>.pid (a test kills one process of a job by it).
void write_pid_file();

}  // namespace dagrad::cli
