// A library user's program under mpirun (issue 19 C): process 1 throws
// while process 0 waits in a sum over the job, and main catches the
// exception outside the dist::Environment's scope, as a program that
// reports its errors does. Without care, process 1 would finalize MPI and
// exit while process 0 waits in MPI_Wait forever; the Environment's
// destructor sees the exception in flight and ends the whole job with one
// line naming the process and the error. tests/CMakeLists.txt runs it under
// `mpirun -np 2` with a timeout and passes it on that line (the job's exit
// code is not 0 by design).
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "dagrad/dist/comm.hpp"

int main(int argc, char** argv) try {
  dagrad::dist::Environment env(argc, argv);
  dagrad::dist::Comm& world = dagrad::dist::Comm::world();
  if (world.rank() == 1) throw std::runtime_error("a bad input on process 1");
  std::vector<double> x{1.0};
  world.sum(x);  // waits for process 1, which never comes
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "caught: %s\n", e.what());
  return 1;
}
