#include "cli/distributed.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "dagrad/dist/comm.hpp"

namespace dagrad::cli {

bool is_root() { return dist::Comm::world().rank() == 0; }

void add_bucket_option(CLI::App* cmd, double& bucket_mb) {
  cmd->add_option("--bucket-mb", bucket_mb,
                  "data-parallel runs (mpirun): MiB of gradients summed over the processes at once; "
                  "a bucket starts as soon as its gradients exist, dW[L] first");
}

void write_pid_file() {
  const char* dir = std::getenv("DAGRAD_PID_DIR");
  if (!dir || !*dir) return;
  const auto path = std::filesystem::path(dir) / fmt::format("rank{}.pid", dist::Comm::world().rank());
  std::ofstream(path) << ::getpid() << "\n";
}

}  // namespace dagrad::cli
