// The processes of a data-parallel run and the sums between them, over Open
// MPI when dagrad is built with it (DAGRAD_WITH_MPI) and the program was
// started by mpirun; otherwise one process, and every sum is its operand.
//
//   int main(int argc, char** argv) {
//     dagrad::dist::Environment mpi(argc, argv);   // MPI_Init under mpirun
//     ...
//     options.comm = &dagrad::dist::Comm::world();  // asked for: the default is one process
//     train::fit(model, data, nullptr, options);     // data-parallel over every process
//   }
//
// Every sum is deterministic: a value summed over N processes is
//   ((x_0 + x_1) + x_2) + ... + x_{N-1}     in rank order,
// computed once, by the process that owns that slice of the buffer, and
// copied to the others (a reduce-scatter by MPI_Ialltoallv, then
// MPI_Iallgatherv). So every process gets the same bits, two runs with the
// same N get the same bits, and neither depends on the algorithm Open MPI
// picks for its own MPI_Allreduce (which the MPI standard lets round
// differently on different ranks). The traffic is a ring allreduce's:
// 2 (N-1)/N of the buffer per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dagrad/ops/op.hpp"

namespace dagrad::dist {

// Whether this build can run data-parallel (configured with MPI).
bool built_with_mpi();
// Whether an MPI launcher (mpirun, mpiexec, srun) started this process: it
// sets OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK in the environment.
bool launched_by_mpi();

// MPI for the length of a program: MPI_Init_thread (MPI_THREAD_MULTIPLE, for
// the progress thread that moves the bucket sums while the step computes;
// MPI_THREAD_FUNNELED with DAGRAD_MPI_PROGRESS=inline) when launched by
// mpirun in a build with MPI, MPI_Finalize at the end of its scope. Outside mpirun nothing is
// initialized, so a plain run behaves as in a build without MPI. One per
// program; leave it before main returns.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  static bool active();  // MPI is initialized and not yet finalized
  // Ends every process of the job (MPI_Abort with `code`) after a fatal error
  // on this one, so that none waits forever in a collective; exits with
  // `code` when MPI is not active.
  [[noreturn]] static void abort(int code);
};

class Comm final : public ops::Collectives {
 public:
  // Every process of the job (MPI_COMM_WORLD), or this process alone when
  // MPI is not active.
  static Comm& world();
  // This process alone: a run over it is a plain one-process run.
  static Comm& self();
  ~Comm() override;
  Comm(Comm&&) noexcept;
  Comm& operator=(Comm&&) noexcept;

  // The processes of this one with the same `color`, ranked in the same
  // order (MPI_Comm_split); a collective call.
  Comm split(int color) const;

  int rank() const;
  int size() const;
  bool distributed() const { return size() > 1; }

  // In place: each value summed over the processes, in rank order, the same
  // bits on every process.
  void sum(std::span<double> values);
  // Root's bytes to every process; every process gives the same size.
  void broadcast(std::span<std::byte> bytes, int root = 0);
  void broadcast(std::span<double> values, int root = 0);
  void broadcast(std::string& text, int root = 0);  // any size: root's wins
  // Every process's values, concatenated in rank order, on `root` (empty
  // elsewhere). Processes may give different counts.
  std::vector<double> gather(std::span<const double> values, int root = 0);
  // The largest of every process's `value`.
  double max(double value);
  void barrier();

  // ops::Collectives: the allreduce nodes' buckets, by their start node.
  void start(NodeId start, void* data, std::int64_t count, DType dtype) override;
  void wait(NodeId start) override;
  void progress() override;

  struct Impl;

 private:
  explicit Comm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagrad::dist
