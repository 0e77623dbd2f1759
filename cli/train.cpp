// dagrad train: fits the model spec to a data set and reports accuracy.
//   dagrad train --layers 12288,20,7,5,1 --hidden relu --data train.h5
//       --test test.h5 --init he --lr 0.0075 --iters 2500
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/model_spec.hpp"
#include "cli/outputs.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/normalize.hpp"
#include "dagrad/train/plan.hpp"
#include "dagrad/viz/plot.hpp"

namespace dagrad::cli {

namespace {

struct TrainArgs {
  SpecOptions spec;
  std::string data, labels, test, test_labels, init = "he", init_from, save, cost_log;
  std::string plot, plot_boundary, optimizer = "gd";
  bool no_scale = false, normalize = false, plot_log = false, check_numerics = false;
  double scale = 0, lr = 0.0075, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, decay_rate = 0;
  double dev_ratio = 0;
  std::int64_t iters = 0, epochs = 0, batch_size = 0, patience = 0, print_every = 100;
};

void add_data_flags(CLI::App* c, TrainArgs& a) {
  c->add_option("--data", a.data, "training data: .csv (label last), .h5, .npz")->required();
  c->add_option("--labels", a.labels, "labels in a separate file (one per line)");
  c->add_option("--test", a.test, "test data, same formats");
  c->add_option("--test-labels", a.test_labels, "labels of the test data");
  c->add_flag("--no-scale", a.no_scale, "keep uint8 images as 0..255 (default: divide by 255)");
  c->add_option("--scale", a.scale, "divide every feature by this (255 for the cat CSVs)");
  c->add_flag("--normalize", a.normalize, "standardize inputs with the training mu and sigma");
  c->add_option("--dev-ratio", a.dev_ratio, "fraction of --data held out as a dev set");
}

void add_fit_flags(CLI::App* c, TrainArgs& a) {
  c->add_option("--init", a.init, "zeros, small, he or xavier")
      ->check(CLI::IsMember({"zeros", "small", "he", "xavier"}));
  c->add_option("--init-from", a.init_from, "start from these parameters (.npz)");
  c->add_option("--lr", a.lr, "learning rate alpha");
  auto* it = c->add_option("--iters", a.iters, "number of updates");
  auto* ep = c->add_option("--epochs", a.epochs, "passes over the training set");
  it->excludes(ep);
  c->add_option("--batch-size", a.batch_size, "mini-batch size (default: full batch)");
  c->add_option("--optimizer", a.optimizer, "gd, momentum, rmsprop or adam")
      ->check(CLI::IsMember({"gd", "momentum", "rmsprop", "adam"}));
  c->add_option("--beta1", a.beta1, "momentum / Adam beta1");
  c->add_option("--beta2", a.beta2, "RMSprop / Adam beta2");
  c->add_option("--epsilon", a.epsilon, "RMSprop / Adam epsilon");
  c->add_option("--decay-rate", a.decay_rate, "lr = lr0 / (1 + decay_rate * epoch)");
  c->add_option("--patience", a.patience, "early stopping: dev checks without improvement");
  c->add_option("--print-every", a.print_every, "print the cost every N iterations/epochs");
  c->add_flag("--check-numerics", a.check_numerics, "stop at the first node that yields NaN/Inf, naming it");
}

void add_output_flags(CLI::App* c, TrainArgs& a) {
  c->add_option("--save", a.save, "write the trained parameters (.npz)");
  c->add_option("--cost-log", a.cost_log, "CSV of iteration,cost");
  c->add_option("--plot", a.plot, "cost curve (.svg/.png/.pdf)");
  c->add_flag("--plot-log", a.plot_log, "log-scale y axis for --plot");
  c->add_option("--plot-boundary", a.plot_boundary, "decision boundary (2-feature data only)");
}

std::optional<std::filesystem::path> opt_path(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return std::filesystem::path(s);
}

train::DataOptions data_options(const TrainArgs& a, const std::string& labels) {
  return {opt_path(labels), a.no_scale, a.scale};
}

void write_plot(const TrainArgs& a, const train::FitResult& r) {
  const bool per_epoch = a.epochs > 0;
  std::span<const double> costs = per_epoch ? r.epoch_costs : r.costs;
  std::vector<std::int64_t> xs(costs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<std::int64_t>(i);
  viz::CostPlotOptions po;
  po.title = fmt::format("Learning rate = {}", a.lr);
  po.log_scale = a.plot_log;
  po.x_label = per_epoch ? "epochs" : "iterations";
  viz::write_cost_plot(a.plot, xs, costs, po);
}

// Checked once the data is loaded, before training.
void check_boundary_data(const TrainArgs& a, const io::Dataset& raw) {
  if (!a.plot_boundary.empty() && raw.X.rows() != 2)
    throw InputError(fmt::format("--plot-boundary needs 2-feature data; {} has {}", raw.origin,
                                 raw.X.rows()));
}

void write_boundary(const TrainArgs& a, const models::ModelSpec& spec, const io::Dataset& raw,
                    const std::optional<train::Normalizer>& norm,
                    std::span<const runtime::Tensor> params) {
  auto predict = [&](std::span<const double> g1, std::span<const double> g2, std::span<double> p) {
    io::Matrix X({2, static_cast<std::int64_t>(g1.size())});
    std::copy(g1.begin(), g1.end(), X.values.begin());
    std::copy(g2.begin(), g2.end(), X.values.begin() + static_cast<std::ptrdiff_t>(g1.size()));
    if (norm) norm->apply(X);
    const io::Matrix AL = train::predict(spec, params, X);
    const std::int64_t row = AL.rows() == 1 ? 0 : 1;  // P(y = 1)
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = AL(row, static_cast<std::int64_t>(k));
  };
  std::span<const double> all = raw.X.values;
  const auto m = static_cast<std::size_t>(raw.samples());
  viz::BoundaryPlotOptions bo;
  bo.title = fmt::format("Decision boundary, layers {}", fmt::join(spec.layers, ","));
  viz::write_boundary_plot(a.plot_boundary, all.subspan(0, m), all.subspan(m, m), raw.Y.values,
                           predict, bo);
}

}  // namespace

}  // namespace dagrad::cli

namespace dagrad::cli {

namespace {

struct Sets {
  io::Dataset raw_train, train;  // raw: as loaded (for the boundary plot)
  std::optional<io::Dataset> dev, test;
  std::optional<train::Normalizer> norm;
};

void check_labels(const models::ModelSpec& spec, const io::Dataset& d) {
  for (const std::string& note : d.notes) print_note(note);
  if (spec.output == models::Output::sigmoid && d.Y.rows() == 1) io::check_binary_labels(d);
}

Sets load_sets(const TrainArgs& a, const models::ModelSpec& spec) {
  Sets s;
  s.raw_train = train::load_data(a.data, data_options(a, a.labels));
  check_labels(spec, s.raw_train);
  s.train = s.raw_train;
  if (a.dev_ratio > 0) {
    auto [t, d] = io::split_train_dev(s.raw_train, a.dev_ratio, a.spec.seed);
    s.train = std::move(t);
    s.dev = std::move(d);
  }
  if (!a.test.empty()) {
    s.test = train::load_data(a.test, data_options(a, a.test_labels));
    check_labels(spec, *s.test);
  }
  if (a.normalize) {
    s.norm = train::Normalizer::fit(s.train.X);  // train statistics only
    s.norm->apply(s.train.X);
    if (s.dev) s.norm->apply(s.dev->X);
    if (s.test) s.norm->apply(s.test->X);
  }
  return s;
}

train::FitOptions fit_options(const TrainArgs& a, const models::ModelSpec& spec, DType dtype) {
  train::FitOptions o;
  o.init = train::parse_init(a.init);
  if (!a.init_from.empty()) {
    io::NamedMatrices named = io::load_params(a.init_from);
    train::Normalizer::extract(named, a.init_from);  // the file's own statistics are not reused
    o.initial = train::params_from_named(named, spec, dtype, a.init_from);
  }
  o.seed = a.spec.seed;
  o.dtype = dtype;
  o.learning_rate = a.lr;
  o.iterations = a.iters;
  o.epochs = a.epochs;
  o.batch_size = a.batch_size;
  o.optimizer = {train::parse_optimizer(a.optimizer), a.beta1, a.beta2, a.epsilon};
  o.decay_rate = a.decay_rate;
  o.patience = a.patience;
  o.print_every = a.print_every;
  o.check_numerics = a.check_numerics;
  return o;
}

void print_accuracy(std::string_view what, const models::ModelSpec& spec,
                    std::span<const runtime::Tensor> params, const io::Dataset& d) {
  const train::Evaluation e = train::evaluate(spec, params, d);
  fmt::print("{} accuracy: {:.2f}%\n", what, 100.0 * e.accuracy);
}

void save(const TrainArgs& a, const models::ModelSpec& spec, const Sets& s,
          const train::FitResult& r, DType dtype) {
  if (!a.save.empty()) {
    io::NamedMatrices named = train::named_from_params(spec, r.params);
    if (s.norm)
      for (auto& nm : s.norm->to_named()) named.push_back(std::move(nm));
    io::save_params(a.save, named, dtype);
  }
  if (!a.plot.empty()) write_plot(a, r);
  if (!a.plot_boundary.empty()) write_boundary(a, spec, s.raw_train, s.norm, r.params);
}

// Every file the run reads and writes, checked before any work.
OutputSet files_of(const TrainArgs& a) {
  OutputSet f;
  f.input("--data", a.data).input("--labels", a.labels).input("--test", a.test);
  f.input("--test-labels", a.test_labels).input("--init-from", a.init_from);
  f.output("--save", a.save).output("--cost-log", a.cost_log);
  f.output("--plot", a.plot, OutputKind::figure).output("--plot-boundary", a.plot_boundary, OutputKind::figure);
  return f;
}

void write_cost_log(const TrainArgs& a, const train::FitResult& r) {
  if (a.cost_log.empty()) return;
  io::AtomicFile log(a.cost_log);
  std::string text = "iteration,cost\n";
  for (std::size_t i = 0; i < r.costs.size(); ++i) text += fmt::format("{},{}\n", i, r.costs[i]);
  log.write(text);
  log.commit();
}

int run_train(TrainArgs& a) {
  const models::ModelSpec spec = to_model_spec(a.spec);
  apply_threads(a.spec);
  const DType dtype = to_dtype(a.spec);
  if (a.patience > 0 && !(a.dev_ratio > 0))
    throw InputError("--patience needs a dev set: give --dev-ratio R (e.g. 0.2)");
  if (a.iters == 0 && a.epochs == 0) throw InputError("give --iters N or --epochs N");
  files_of(a).check();
  const Sets s = load_sets(a, spec);
  check_boundary_data(a, s.raw_train);
  const train::FitOptions o = fit_options(a, spec, dtype);
  const train::FitResult r = train::fit(spec, s.train, s.dev ? &*s.dev : nullptr, o);
  // A cost that is not finite before any update comes from the input (data
  // or parameters so large that the cost overflows), not from training.
  if (r.diverged && r.iterations == 0)
    throw InputError(fmt::format("{}: {}; scale the data (--normalize or --scale) or start from smaller "
                                 "parameters", a.data, r.message));
  // A failed run writes nothing: the old --save file stays as it was.
  if (r.diverged) {
    fmt::print(stderr, "dagrad: {}; no output file was written\n", r.message);
    return 1;
  }
  print_accuracy("Train", spec, r.params, s.train);
  if (s.dev) print_accuracy("Dev", spec, r.params, *s.dev);
  if (s.test) print_accuracy("Test", spec, r.params, *s.test);
  write_cost_log(a, r);
  save(a, spec, s, r, dtype);
  return 0;
}

}  // namespace

void add_train(CLI::App& app, Commands& out) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* c = app.add_subcommand("train", "train the model spec on a data set");
  add_spec_options(c, args->spec);
  add_data_flags(c, *args);
  add_fit_flags(c, *args);
  add_output_flags(c, *args);
  out.push_back({c, [args] { return run_train(*args); }});
}

}  // namespace dagrad::cli
