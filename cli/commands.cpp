#include "cli/commands.hpp"

namespace dagrad::cli {

namespace {
Commands& registry() {
  static Commands commands;
  return commands;
}
}  // namespace

// Each subcommand file defines one of these.
void add_gradcheck(CLI::App& app, Commands& out);
void add_train(CLI::App& app, Commands& out);
void add_eval(CLI::App& app, Commands& out);
void add_predict(CLI::App& app, Commands& out);
void add_generate(CLI::App& app, Commands& out);
void add_bench(CLI::App& app, Commands& out);
void add_plan(CLI::App& app, Commands& out);
void add_dot(CLI::App& app, Commands& out);
void add_explain(CLI::App& app, Commands& out);
void add_export(CLI::App& app, Commands& out);
void add_import(CLI::App& app, Commands& out);
void add_studio(CLI::App& app, Commands& out);  // says so in a build without the studio


void register_commands(CLI::App& app) {
  Commands& c = registry();
  (void)app; (void)c;
  add_gradcheck(app, c);
  add_train(app, c);
  add_eval(app, c);
  add_predict(app, c);
  add_generate(app, c);
  add_bench(app, c);
  add_plan(app, c);
  add_dot(app, c);
  add_explain(app, c);
  add_export(app, c);
  add_import(app, c);
  add_studio(app, c);
}

int run_selected(CLI::App&) {
  for (const Command& c : registry())
    if (c.app->parsed()) return c.run();
  return 2;
}

}  // namespace dagrad::cli
