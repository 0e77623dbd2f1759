// dagrad generate: writes a 2-feature data set dagrad makes itself.
//   dagrad generate planar --m 400 --seed 1 -o planar.csv [--labels-out y.csv]
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/outputs.hpp"
#include "dagrad/io/limits.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/synthetic.hpp"

namespace dagrad::cli {

namespace {

struct GenerateArgs {
  std::string kind, out, labels_out;
  std::int64_t m = 400;
  std::uint64_t seed = 1;
  double noise = -1.0;
};

int run_generate(const GenerateArgs& a) {
  OutputSet().output("-o", a.out).output("--labels-out", a.labels_out).check();
  // Two features and a label per sample, as doubles, and their CSV text.
  io::check_memory(static_cast<std::uint64_t>(a.m) > (std::uint64_t{1} << 50) ? ~std::uint64_t{0}
                                                                              : static_cast<std::uint64_t>(a.m) * 96,
                   fmt::format("--m {} samples", a.m));
  const io::Dataset d = train::make_dataset(a.kind, a.m, a.seed, a.noise);
  std::optional<std::filesystem::path> labels;
  if (!a.labels_out.empty()) labels = a.labels_out;
  train::write_csv(d, a.out, labels);
  fmt::print("wrote {} samples of '{}' to {}\n", d.samples(), a.kind, a.out);
  return 0;
}

}  // namespace

void add_generate(CLI::App& app, Commands& out) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* c = app.add_subcommand("generate", "write a planar, circles or moons data set as CSV");
  c->add_option("kind", a->kind, "planar, circles or moons")
      ->required()
      ->check(CLI::IsMember({"planar", "circles", "moons"}));
  c->add_option("--m", a->m, "number of samples");
  c->add_option("--seed", a->seed, "random seed");
  c->add_option("--noise", a->noise, "noise standard deviation (default 0.05 circles, 0.2 moons)");
  c->add_option("-o,--out", a->out, "output CSV, one sample per row, label last")->required();
  c->add_option("--labels-out", a->labels_out, "write labels here instead of a last column");
  out.push_back({c, [a] { return run_generate(*a); }});
}

}  // namespace dagrad::cli
