// dagrad eval: the cost and accuracy (R^2 for a linear output) of a trained
// model on a data set.
//   dagrad eval --model flower.dagrad --data planar.csv
//   dagrad eval --layers 2,4,1 --hidden tanh --params P.npz --data planar.csv
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/distributed.hpp"
#include "cli/model_spec.hpp"
#include "cli/outputs.hpp"
#include "dagrad/dist/comm.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/models/normalize.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/params.hpp"
#include "dagrad/viz/progress.hpp"

namespace dagrad::cli {

namespace {

struct EvalArgs {
  ModelSource source;
  std::string params, data, labels;
  bool no_scale = false;
  double scale = 0;
};

int run_eval(const EvalArgs& a) {
  apply_threads(a.source.spec);
  if (!a.source.model.empty() && !a.params.empty())
    throw InputError(fmt::format("--params: {} holds its parameters already", a.source.model));
  if (a.source.model.empty() && a.params.empty())
    throw InputError("give --model FILE.dagrad, or the spec with --params P.npz");
  models::Model model = make_model(a.source);
  if (!a.params.empty()) {
    io::NamedMatrices named = io::load_params(a.params);
    // A model trained with --normalize carries its training mu and sigma.
    model.normalization = models::Normalizer::extract(named, a.params);
    train::set_params(model, std::move(named), a.params);
  }
  train::DataOptions dopt;
  if (!a.labels.empty()) dopt.labels = a.labels;
  dopt.scale = feature_scale(model, a.no_scale, a.scale);  // as the model was trained, unless a flag says
  dopt.class_labels = model.task() != models::Task::regression;
  const io::Dataset d = train::load_data(a.data, dopt);
  check_same_data("--data", d);  // under mpirun each process evaluates its block of one set
  if (is_root())
    for (const std::string& note : d.notes) print_note(note);
  if (model.task() == models::Task::binary && d.Y.rows() == 1) io::check_binary_labels(d);
  const train::Evaluation e = train::evaluate(model, d, &dist::Comm::world());
  if (!is_root()) return 0;  // under mpirun: the job's result, printed once
  if (e.task == models::Task::regression)
    fmt::print("Cost: {}\nR^2: {}\nSamples: {}\n", viz::format_cost(e.cost), viz::format_cost(e.r2), e.samples);
  else
    fmt::print("Accuracy: {:.2f}%\nCost: {}\nSamples: {}\n", 100.0 * e.accuracy, viz::format_cost(e.cost), e.samples);
  return 0;
}

}  // namespace

void add_eval(CLI::App& app, Commands& out) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* c = app.add_subcommand("eval", "cost and accuracy (or R^2) of a trained model on a data set");
  add_model_source(c, a->source, "a graph file saved from C++ (with --params)", "--model",
                   "a model saved by dagrad train --save FILE.dagrad");
  c->add_option("--params", a->params, "parameters (.npz) from dagrad train --save P.npz");
  c->add_option("--data", a->data, "data: .csv (label last), .h5, .npz")->required();
  c->add_option("--labels", a->labels, "labels in a separate file");
  c->add_flag("--no-scale", a->no_scale, "keep uint8 images as 0..255 (default: as the model was trained)");
  c->add_option("--scale", a->scale, "divide every feature by this (255 for the cat CSVs; default: as the model was trained)");
  out.push_back({c, [a] { return run_eval(*a); }});
}

}  // namespace dagrad::cli
