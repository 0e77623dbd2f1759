// dagrad: the command-line front end. Every subcommand takes the same model
// spec (cli/model_spec.hpp). Exit codes: 0 success, 1 a check failed,
// 2 usage or input error, always as one line "dagrad: error: ..." on stderr.
// Started by mpirun (in a build with MPI), it runs as one process of a
// data-parallel job (dist/comm.hpp): an error on any process prints its
// line, naming the process, and ends the whole job (MPI_Abort), so that no
// other process waits forever for it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/distributed.hpp"
#include "cli/flags.hpp"
#include "dagrad/dist/comm.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"

namespace {

// The job's processes end together: the error line, then MPI_Abort (the
// exit code alone outside a data-parallel job).
int fail(std::string_view message, int code) {
  const dagrad::dist::Comm& world = dagrad::dist::Comm::world();
  if (!world.distributed()) {
    dagrad::cli::print_error(message);
    return code;
  }
  dagrad::cli::print_error(fmt::format("process {} of {}: {}", world.rank(), world.size(), message));
  std::fflush(stderr);
  dagrad::dist::Environment::abort(code);
}

// Every process found the same JobError at the same point: rank 0 prints it,
// and each exits on its own.
int job_error(const dagrad::cli::JobError& e) {
  if (dagrad::cli::is_root()) dagrad::cli::print_error(e.what());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  dagrad::dist::Environment mpi(argc, argv);  // MPI_Init under mpirun, else nothing
  dagrad::cli::write_pid_file();
  try {
    dagrad::cli::check_same_command(argc, argv);  // under mpirun: one command on every process
  } catch (const dagrad::cli::JobError& e) {
    return job_error(e);
  }
  CLI::App app{"dagrad: neural networks as DAGs, with backprop derived as graph nodes"};
  app.set_version_flag("--version", std::string("dagrad ") + DAGRAD_VERSION);
  app.require_subcommand(1);
  dagrad::cli::register_commands(app);
  dagrad::cli::harden(app);
  if (const auto code = dagrad::cli::parse_args(app, argc, argv)) return *code;
  // Ctrl-C, kill or a closed terminal during a run leaves no temp file.
  dagrad::io::remove_temp_files_on_signals();
  try {
    return dagrad::cli::run_selected(app);
  } catch (const dagrad::cli::JobError& e) {
    return job_error(e);
  } catch (const std::bad_alloc&) {
    return fail("out of memory (a size given on the command line or in a file is too large)", 2);
  } catch (const std::exception& e) {
    return fail(e.what(), 2);
  }
}
