#include "cli/commands.hpp"

namespace dagrad::cli {

namespace {
Commands& registry() {
  static Commands commands;
  return commands;
}
}  // namespace

// Each subcommand file defines one of these.


void register_commands(CLI::App& app) {
  Commands& c = registry();
  (void)app; (void)c;
}

int run_selected(CLI::App&) {
  for (const Command& c : registry())
    if (c.app->parsed()) return c.run();
  return 2;
}

}  // namespace dagrad::cli
