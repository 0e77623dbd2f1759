// The command line's side of data-parallel runs (`mpirun -np N dagrad
// train ...`, dist/comm.hpp): one process, rank 0, prints and writes the
// outputs; every process reads its own shard and takes part in every sum.
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/dataset.hpp"

namespace dagrad::cli {

// An error every process of the job finds at the same point (they disagree
// on their command or their data): rank 0 prints its one line and every
// process exits 2 on its own, with no MPI_Abort, since none waits for
// another.
struct JobError : InputError {
  using InputError::InputError;
};

// Under mpirun, at start-up: every process runs the same command with the
// same flags (its arguments after the program's path). An MPMD launch
// (`mpirun -np 1 dagrad train --batch-size 8 : -np 1 dagrad train
// --batch-size 16`) is a JobError on every process naming the first process
// that differs, the flag and both values.
void check_same_command(int argc, char** argv);
// Every process gives `mine` (its data's shape: samples of the whole set,
// features, label rows); a JobError on every process when one differs from
// rank 0's, naming that process, `what` and both values.
void check_same(std::string_view what, const std::string& mine);
// check_same for a data set read by every process (its shard or the whole
// set): the whole set's samples, its features and its label rows.
void check_same_data(std::string_view flag, const io::Dataset& d);

// Rank 0 of the job, or the only process: the one that prints and writes.
bool is_root();
// --bucket-mb: the size of the gradient buckets summed over processes.
void add_bucket_option(CLI::App* cmd, double& bucket_mb);
// With DAGRAD_PID_DIR set, writes this process's pid to
// $DAGRAD_PID_DIR/rank<r>.pid (a test kills one process of a job by it).
void write_pid_file();

}  // namespace dagrad::cli
