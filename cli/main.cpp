// dagrad: the command-line front end. Every subcommand takes the same model
// spec (cli/model_spec.hpp). Exit codes: 0 success, 1 a check failed,
// 2 usage or input error, always as one line "dagrad: error: ..." on stderr.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"

int main(int argc, char** argv) {
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
  } catch (const std::bad_alloc&) {
    dagrad::cli::print_error("out of memory (a size given on the command line or in a file is too large)");
    return 2;
  } catch (const std::exception& e) {
    dagrad::cli::print_error(e.what());
    return 2;
  }
}
