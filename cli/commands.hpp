// The subcommands of the dagrad CLI. Each lives in cli/<name>.cpp and adds
// itself to the app through an add_<name> function listed in commands.cpp
// (an explicit list: no static self-registration).
#pragma once

#include <functional>
#include <vector>

#include <CLI/CLI.hpp>

namespace dagrad::cli {

struct Command {
  CLI::App* app;
  std::function<int()> run;  // returns the exit code
};

using Commands = std::vector<Command>;

void register_commands(CLI::App& app);
int run_selected(CLI::App& app);

}  // namespace dagrad::cli
