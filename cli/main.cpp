// dagrad: the command-line front end. Every subcommand takes the same model
// spec (cli/model_spec.hpp). Exit codes: 0 success, 1 a check failed,
// 2 usage or input error.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "dagrad/graph/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dagrad: neural networks as DAGs, with backprop derived as graph nodes"};
  app.set_version_flag("--version", std::string("dagrad ") + DAGRAD_VERSION);
  app.require_subcommand(1);
  dagrad::cli::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return dagrad::cli::run_selected(app);
  } catch (const dagrad::Error& e) {
    fmt::print(stderr, "dagrad: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "dagrad: error: {}\n", e.what());
    return 2;
  }
}
