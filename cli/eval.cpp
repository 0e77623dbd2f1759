// dagrad eval: accuracy and cost of saved parameters on a data set.
//   dagrad eval --layers 2,4,1 --hidden tanh --params P.npz --data planar.csv
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/model_spec.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/normalize.hpp"
#include "dagrad/train/plan.hpp"

namespace dagrad::cli {

namespace {

struct EvalArgs {
  SpecOptions spec;
  std::string params, data, labels;
  bool no_scale = false;
  double scale = 0;
};

int run_eval(const EvalArgs& a) {
  const models::ModelSpec spec = to_model_spec(a.spec);
  apply_threads(a.spec);
  io::NamedMatrices named = io::load_params(a.params);
  // A model trained with --normalize carries its training mu and sigma.
  const auto norm = train::Normalizer::extract(named, a.params);
  const auto params = train::params_from_named(named, spec, to_dtype(a.spec), a.params);
  train::DataOptions dopt;
  if (!a.labels.empty()) dopt.labels = a.labels;
  dopt.no_scale = a.no_scale;
  dopt.scale = a.scale;
  io::Dataset d = train::load_data(a.data, dopt);
  for (const std::string& note : d.notes) print_note(note);
  if (spec.output == models::Output::sigmoid && d.Y.rows() == 1) io::check_binary_labels(d);
  if (norm) norm->apply(d.X);
  const train::Evaluation e = train::evaluate(spec, params, d);
  fmt::print("Accuracy: {:.2f}%\nCost: {:.6f}\nSamples: {}\n", 100.0 * e.accuracy, e.cost, e.samples);
  return 0;
}

}  // namespace

void add_eval(CLI::App& app, Commands& out) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* c = app.add_subcommand("eval", "accuracy and cost of saved parameters on a data set");
  add_spec_options(c, a->spec);
  c->add_option("--params", a->params, "parameters (.npz) from dagrad train --save")->required();
  c->add_option("--data", a->data, "data: .csv (label last), .h5, .npz")->required();
  c->add_option("--labels", a->labels, "labels in a separate file");
  c->add_flag("--no-scale", a->no_scale, "keep uint8 images as 0..255");
  c->add_option("--scale", a->scale, "divide every feature by this (255 for the cat CSVs)");
  out.push_back({c, [a] { return run_eval(*a); }});
}

}  // namespace dagrad::cli
