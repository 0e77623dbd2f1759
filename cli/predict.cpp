// dagrad predict: a saved model's outputs for new data, one row per sample.
//   dagrad predict --model flower.dagrad --data new.csv -o P.csv
// The data holds features only (a CSV: one sample per line; .h5/.npz: the
// feature array). P.csv has the output units as comma-separated columns
// and no header, so numpy.loadtxt(P.csv, delimiter=',') reads it.
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/model_spec.hpp"
#include "cli/outputs.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"

namespace dagrad::cli {

namespace {

struct PredictArgs {
  ModelSource source;
  std::string data, output;
  bool no_scale = false;
  double scale = 0;
  std::int64_t batch = 1024;
};

// One line per sample; shortest round-trip digits, so the file holds the
// model's values exactly.
std::string csv_of(const io::Matrix& P) {
  std::string out;
  for (std::int64_t j = 0; j < P.cols(); ++j) {
    for (std::int64_t r = 0; r < P.rows(); ++r)
      fmt::format_to(std::back_inserter(out), "{}{}", r ? "," : "", P(r, j));
    out += '\n';
  }
  return out;
}

int run_predict(const PredictArgs& a) {
  apply_threads(a.source.spec);
  if (a.batch < 1) throw InputError(fmt::format("--batch-size {} must be at least 1", a.batch));
  OutputSet().input("--model", a.source.model).input("--data", a.data).output("-o", a.output).check();
  io::AtomicFile out(a.output);  // a bad output path fails before any work
  models::Model model = make_model(a.source);
  train::DataOptions dopt;
  dopt.no_scale = a.no_scale;
  dopt.scale = a.scale;
  dopt.features_only = true;
  const io::Dataset d = train::load_data(a.data, dopt);
  for (const std::string& note : d.notes) print_note(note);
  train::Predictor predictor(model, a.batch);
  out.write(csv_of(predictor.predict(d.X)));
  out.commit();
  return 0;
}

}  // namespace

void add_predict(CLI::App& app, Commands& out) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* c = app.add_subcommand("predict", "a saved model's outputs for new data, as CSV");
  add_model_file(c, a->source, "--model", "a model saved by dagrad train --save FILE.dagrad", true);
  c->add_option("--data", a->data, "features: .csv (one sample per line), .h5, .npz")->required();
  c->add_option("-o,--out", a->output, "predictions: CSV, one row per sample")->required();
  c->add_flag("--no-scale", a->no_scale, "keep uint8 images as 0..255");
  c->add_option("--scale", a->scale, "divide every feature by this (255 for the cat CSVs)");
  c->add_option("--batch-size", a->batch, "samples per run of the plan");
  out.push_back({c, [a] { return run_predict(*a); }});
}

}  // namespace dagrad::cli
