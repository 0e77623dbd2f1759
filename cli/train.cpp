// dagrad train: fits a model to a data set and reports its accuracy (or, for
// a linear output, its cost and R^2).
//   dagrad train --layers 12288,20,7,5,1 --hidden relu --data train.h5
//       --test test.h5 --init he --lr 0.0075 --iters 2500 --save cats.dagrad
//   dagrad train --graph model.json --data d.csv --epochs 100 --optimizer adam
//   dagrad train --resume cats.dagrad --data train.h5 --iters 5000
// --iters and --epochs are totals: a model saved after 20 epochs and resumed
// with --epochs 40 runs epochs 21 to 40.
//
// Under mpirun the same command trains data-parallel (README "Data-parallel
// training"): each process reads its shard of --data (and --test), the
// gradients are summed over the processes in buckets of --bucket-mb, and
// rank 0 alone prints and writes --save, --cost-log, the plots and, every
// --checkpoint-every K updates, the model file.
//   mpirun -np 4 dagrad train --layers 784,1024,1024,1 --data d.npy --labels y.npy
//       --epochs 10 --batch-size 512 --optimizer adam --save m.dagrad --checkpoint-every 100
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/distributed.hpp"
#include "cli/flags.hpp"
#include "cli/model_spec.hpp"
#include "cli/outputs.hpp"
#include "dagrad/dist/comm.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/params.hpp"
#include "dagrad/viz/plot.hpp"
#include "dagrad/viz/progress.hpp"

namespace dagrad::cli {

namespace {

struct TrainArgs {
  ModelSource source;
  std::string data, labels, test, test_labels, init = "he", init_from, save, cost_log;
  std::string plot, plot_boundary;
  OptimizerFlags optimizer{"gd"};
  bool no_scale = false, normalize = false, plot_log = false, check_numerics = false;
  double scale = 0;
  double dev_ratio = 0, bucket_mb = 25;
  std::int64_t iters = 0, epochs = 0, batch_size = 0, patience = 0, print_every = 100;
  std::int64_t checkpoint_every = 0;
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
  auto* it = c->add_option("--iters", a.iters, "number of updates (a total, counting a resumed model's)");
  auto* ep = c->add_option("--epochs", a.epochs, "passes over the training set (a total)");
  it->excludes(ep);
  c->add_option("--batch-size", a.batch_size, "mini-batch size (default: full batch)");
  add_optimizer_flags(c, a.optimizer, "");
  c->add_option("--patience", a.patience, "early stopping: dev checks without improvement");
  c->add_option("--print-every", a.print_every, "print the cost every N iterations/epochs");
  c->add_flag("--check-numerics", a.check_numerics, "stop at the first node that yields NaN/Inf, naming it");
}

void add_output_flags(CLI::App* c, TrainArgs& a) {
  c->add_option("--save", a.save,
                "write the trained model (FILE.dagrad) or its parameters for numpy (FILE.npz)");
  c->add_option("--cost-log", a.cost_log, "CSV of iteration,cost");
  c->add_option("--plot", a.plot, "cost curve (.svg/.png/.pdf)");
  c->add_flag("--plot-log", a.plot_log, "log-scale y axis for --plot");
  c->add_option("--plot-boundary", a.plot_boundary, "decision boundary (2-feature data only)");
  c->add_option("--checkpoint-every", a.checkpoint_every,
                "write the model to --save FILE.dagrad every K updates (resume it with --resume)");
  add_bucket_option(c, a.bucket_mb);
}

std::optional<std::filesystem::path> opt_path(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return std::filesystem::path(s);
}

// --scale D and --no-scale as the one number a model stores
// (models::Model::data_scale): 0 for neither, --no-scale is D = 1.
double data_scale(const TrainArgs& a) { return a.no_scale ? 1.0 : a.scale; }

std::string scaling_text(double data_scale) {
  if (data_scale == 0) return "default scaling (uint8 images / 255, other data as read)";
  if (data_scale == 1) return "features as read (--no-scale)";
  return fmt::format("features / {:g} (--scale {:g})", data_scale, data_scale);
}

// Under mpirun each process reads only its shard of a data file. The
// features are scaled as the model's data_scale says (the flags' for a
// model that starts training here, the file's for one that continues).
train::DataOptions data_options(const std::string& labels, const models::Model& model) {
  train::DataOptions o{opt_path(labels), false, model.data_scale};
  o.class_labels = model.task() != models::Task::regression;
  const dist::Comm& world = dist::Comm::world();
  o.shard = {world.rank(), world.size()};
  return o;
}

bool saves_params(const std::string& path) { return path.ends_with(".npz"); }

// --cost-log has one row per update (its `iteration`, counted as the
// model's steps); --plot has one point per epoch with --epochs (the mean
// cost of the epoch's updates), else one per update on the cost log's axis.
// The x label says which.
void write_plot(const TrainArgs& a, const train::FitResult& r, double lr, std::int64_t epochs_done) {
  const bool per_epoch = a.epochs > 0;
  std::span<const double> costs = per_epoch ? r.epoch_costs : r.costs;
  // Epochs numbered from 0, as the "Cost after epoch" lines number them.
  const std::int64_t first = per_epoch ? epochs_done - static_cast<std::int64_t>(costs.size()) : r.first_iteration;
  std::vector<std::int64_t> xs(costs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = first + static_cast<std::int64_t>(i);
  viz::CostPlotOptions po;
  po.title = fmt::format("Learning rate = {:g}", lr);
  po.log_scale = a.plot_log;
  po.x_label = per_epoch ? "epoch (mean cost of its updates; --cost-log has one row per update)"
                         : "iteration (one update each, as in --cost-log)";
  viz::write_cost_plot(a.plot, xs, costs, po);
}

// The training samples of every process, on rank 0 (2 features: small).
io::Dataset gathered(const io::Dataset& part) {
  dist::Comm& world = dist::Comm::world();
  if (!part.is_shard()) return part;
  io::Dataset all;
  all.X = io::Matrix(Shape{part.X.rows(), part.total});
  all.Y = io::Matrix(Shape{part.Y.rows(), part.total});
  std::vector<double> index(part.index.begin(), part.index.end());
  const std::vector<double> where = world.gather(index);
  for (io::Matrix* m : {&all.X, &all.Y}) {
    const io::Matrix& mine = m == &all.X ? part.X : part.Y;
    for (std::int64_t r = 0; r < m->rows(); ++r) {
      std::vector<double> row(mine.values.begin() + r * mine.cols(), mine.values.begin() + (r + 1) * mine.cols());
      const std::vector<double> values = world.gather(row);
      for (std::size_t k = 0; k < values.size(); ++k) (*m)(r, static_cast<std::int64_t>(where[k])) = values[k];
    }
  }
  return all;
}

void write_boundary(const TrainArgs& a, models::Model& model, const io::Dataset& part) {
  const io::Dataset raw = gathered(part);
  if (!is_root()) return;
  train::Predictor predictor(model);
  auto predict = [&](std::span<const double> g1, std::span<const double> g2, std::span<double> p) {
    io::Matrix X({2, static_cast<std::int64_t>(g1.size())});
    std::copy(g1.begin(), g1.end(), X.values.begin());
    std::copy(g2.begin(), g2.end(), X.values.begin() + static_cast<std::ptrdiff_t>(g1.size()));
    const io::Matrix AL = predictor.predict(X);
    const std::int64_t row = AL.rows() == 1 ? 0 : 1;  // P(y = 1)
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = AL(row, static_cast<std::int64_t>(k));
  };
  std::span<const double> all = raw.X.values;
  const auto m = static_cast<std::size_t>(raw.samples());
  viz::BoundaryPlotOptions bo;
  bo.title = model.spec ? fmt::format("Decision boundary, layers {}", fmt::join(model.spec->layers, ","))
                        : std::string("Decision boundary");
  viz::write_boundary_plot(a.plot_boundary, all.subspan(0, m), all.subspan(m, m), raw.Y.values,
                           predict, bo);
}

struct Sets {
  io::Dataset train;  // as loaded: fit and evaluate normalize with the model's mu and sigma
  std::optional<io::Dataset> dev, test;
};

void check_labels(const models::Model& model, const io::Dataset& d) {
  if (is_root())
    for (const std::string& note : d.notes) print_note(note);
  if (model.task() == models::Task::binary && d.Y.rows() == 1) io::check_binary_labels(d);
}

Sets load_sets(const TrainArgs& a, const models::Model& model) {
  Sets s;
  s.train = train::load_data(a.data, data_options(a.labels, model));
  check_same_data("--data", s.train);  // under mpirun: every process's shard is of one set
  check_labels(model, s.train);
  if (model.dev_ratio > 0) {
    auto [t, d] = io::split_train_dev(s.train, model.dev_ratio, model.seed);
    s.train = std::move(t);
    s.dev = std::move(d);
  }
  if (!a.test.empty()) {
    s.test = train::load_data(a.test, data_options(a.test_labels, model));
    check_same_data("--test", *s.test);
    check_labels(model, *s.test);
  }
  return s;
}


std::string batch_name(std::int64_t b) {
  return b == 0 ? std::string("full batch (every sample)") : fmt::format("batch size {}", b);
}

// --iters and --epochs are totals: one the model has reached trains nothing.
void check_total(const TrainArgs& a, const models::Model& model) {
  const bool by_epochs = a.epochs > 0;
  const std::int64_t want = by_epochs ? a.epochs : a.iters, done = by_epochs ? model.epochs : model.steps;
  if (want <= done)
    throw InputError(fmt::format("{} {}: {} has already {} {} {} (--iters and --epochs count the total, the "
                                 "model's included); give more than {} to train further",
                                 by_epochs ? "--epochs" : "--iters", want, a.source.model,
                                 by_epochs ? "completed" : "made", done, by_epochs ? "epochs" : "updates", done));
}

// A resumed model keeps its optimizer, initialization and normalization,
// and the settings that choose its training stream (model.hpp: seed, batch
// size, dev split, the features' scaling): flags that would change them are
// refused rather than ignored. A model never trained here (steps 0: saved
// from C++ or imported) takes any batch size, dev split and scaling.
void check_resume(const TrainArgs& a, const models::Model& model) {
  const CLI::App* cmd = a.source.cmd;
  for (const char* f : {"--init", "--init-from"})
    if (given(cmd, f))
      throw InputError(fmt::format("{} does not apply with --resume: {} holds trained parameters", f,
                                   a.source.model));
  if (a.normalize && !model.normalization)
    throw InputError(fmt::format("--normalize: {} was trained without normalization; resume "
                                 "without --normalize", a.source.model));
  check_total(a, model);
  const bool trained = model.steps > 0;
  if (trained && given(cmd, "--batch-size") && a.batch_size != model.batch_size)
    throw InputError(fmt::format("--batch-size {} differs from the {} that {} was trained with; resume "
                                 "without --batch-size", a.batch_size, batch_name(model.batch_size),
                                 a.source.model));
  if (trained && given(cmd, "--dev-ratio") && a.dev_ratio != model.dev_ratio)
    throw InputError(fmt::format("--dev-ratio {:g} differs from the {} that {} was trained with; resume "
                                 "without --dev-ratio", a.dev_ratio,
                                 model.dev_ratio > 0 ? fmt::format("dev ratio {:g}", model.dev_ratio)
                                                     : std::string("training on every sample (no dev set)"),
                                 a.source.model));
  const bool scale_given = given(cmd, "--scale") || given(cmd, "--no-scale");
  if (trained && scale_given && data_scale(a) != model.data_scale)
    throw InputError(fmt::format("{} differs from the {} that {} was trained with; resume without "
                                 "--scale and --no-scale",
                                 a.no_scale ? std::string("--no-scale") : fmt::format("--scale {:g}", a.scale),
                                 scaling_text(model.data_scale), a.source.model));
  if (!model.minimized()) return;
  const train::OptimizerConfig file = model.optimizer(), flags = *optimizer_of(a.optimizer);
  const std::pair<const char*, bool> differ[] = {
      {"--optimizer", file.kind != flags.kind},     {"--lr", file.learning_rate != flags.learning_rate},
      {"--beta1", file.beta1 != flags.beta1},       {"--beta2", file.beta2 != flags.beta2},
      {"--epsilon", file.epsilon != flags.epsilon}, {"--decay-rate", file.decay_rate != flags.decay_rate},
      {"--weight-decay", file.weight_decay != flags.weight_decay}};
  for (const auto& [flag, d] : differ)
    if (given(cmd, flag) && d)
      throw InputError(fmt::format("{} differs from the optimizer {} was trained with ({}, lr {:g}); "
                                   "resume with the same settings", flag, a.source.model,
                                   train::name_of(file.kind), file.learning_rate));
}

void print_metrics(std::string_view what, models::Model& model, const io::Dataset& d) {
  const train::Evaluation e = train::evaluate(model, d, &dist::Comm::world());
  if (!is_root()) return;
  if (e.task == models::Task::regression)
    fmt::print("{} cost: {}  R^2: {}\n", what, viz::format_cost(e.cost), viz::format_cost(e.r2));
  else
    fmt::print("{} accuracy: {:.2f}%\n", what, 100.0 * e.accuracy);
}

void write_outputs(const TrainArgs& a, models::Model& model, const Sets& s,
                   const train::FitResult& r) {
  // The plot's data comes from every process; the files from rank 0 alone.
  if (!a.plot_boundary.empty()) write_boundary(a, model, s.train);
  if (!is_root()) return;
  if (!a.cost_log.empty()) {
    io::AtomicFile log(a.cost_log);
    std::string text = "iteration,cost\n";
    for (std::size_t i = 0; i < r.costs.size(); ++i)
      text += fmt::format("{},{}\n", r.first_iteration + static_cast<std::int64_t>(i), r.costs[i]);
    log.write(text);
    log.commit();
  }
  if (!a.save.empty()) {
    if (saves_params(a.save)) io::save_params(a.save, train::params_of(model), model.dtype());
    else models::save_model(model, a.save);
  }
  if (!a.plot.empty()) write_plot(a, r, model.optimizer().learning_rate, model.epochs);
}

// Every file the run reads and writes, checked before any work: a bad path
// or extension fails now rather than after training.
void check_files(const TrainArgs& a) {
  OutputSet f;
  f.input("--data", a.data).input("--labels", a.labels).input("--test", a.test);
  f.input("--test-labels", a.test_labels).input("--init-from", a.init_from);
  f.input("--graph", a.source.graph);
  // --resume and --save may name one file: the model continues where it was
  // saved, and the file is replaced whole only when the run succeeds.
  if (a.source.model != a.save) f.input("--resume", a.source.model);
  f.output("--save", a.save).output("--cost-log", a.cost_log);
  f.output("--plot", a.plot, OutputKind::figure);
  f.output("--plot-boundary", a.plot_boundary, OutputKind::figure);
  // Only rank 0 writes, so only it checks the outputs (the others would
  // race it for the same temp files).
  if (is_root()) f.check();
  if (!a.save.empty() && !saves_params(a.save) && !a.save.ends_with(".dagrad"))
    throw InputError(fmt::format("--save {}: give FILE.dagrad (the model) or FILE.npz (its "
                                 "parameters)", a.save));
  if (a.checkpoint_every > 0 && !a.save.ends_with(".dagrad"))
    throw InputError(fmt::format("--checkpoint-every {} writes the model file: give --save "
                                 "FILE.dagrad", a.checkpoint_every));
}

// Every K updates, rank 0 replaces the model file whole (AtomicFile): a job
// stopped at any moment leaves the last checkpoint or the one before. A
// checkpoint is written one update late, once the cost of its parameters
// has been computed and found finite (fit calls after_step only then), and
// never with a value that is NaN or Inf: a run that diverges leaves no model
// that diverges. `saved` is the step count of the last one written (0: none).
struct Checkpoints {
  std::int64_t saved = 0, pending_steps = 0;
  std::vector<std::uint8_t> pending;  // the model after pending_steps updates
};

std::function<void(const models::Model&)> checkpoints(const TrainArgs& a, std::shared_ptr<Checkpoints> c) {
  if (a.checkpoint_every <= 0 || !is_root()) return {};
  return [path = a.save, k = a.checkpoint_every, c](const models::Model& m) {
    if (!c->pending.empty()) {  // its parameters' cost was this update's J: finite
      io::AtomicFile file(path);
      file.write(c->pending);
      file.commit();
      c->saved = c->pending_steps;
      c->pending.clear();
    }
    if (m.steps % k != 0 || models::non_finite_value(m)) return;
    c->pending = models::model_bytes(m);
    c->pending_steps = m.steps;
  };
}

// What a failed run leaves on disk: a checkpoint, or nothing new.
std::string on_disk(const TrainArgs& a, std::int64_t checkpoint) {
  if (checkpoint == 0) return "no output file was written";
  return fmt::format("--save {} holds the checkpoint after update {} (continue with --resume {}); no other "
                     "output file was written", a.save, checkpoint, a.save);
}

int run_train(TrainArgs& a) {
  apply_threads(a.source.spec);
  if (a.iters == 0 && a.epochs == 0) throw InputError("give --iters N or --epochs N");
  check_files(a);
  models::Model model = make_model(a.source);
  const bool resumed = !a.source.model.empty();
  // The stream a trained model was on goes on; a fresh one takes the flags.
  const bool continues = resumed && model.steps > 0;
  if (resumed) check_resume(a, model);
  if (!continues) {
    model.dev_ratio = a.dev_ratio;
    model.data_scale = data_scale(a);
  }
  if (a.patience > 0 && !(model.dev_ratio > 0))
    throw InputError("--patience needs a dev set: give --dev-ratio R (e.g. 0.2)");
  if (!resumed) {
    model.set_init(models::parse_init(a.init));
    if (given(a.source.cmd, "--seed")) model.seed = a.source.spec.seed;
    if (!a.init_from.empty()) train::set_params(model, io::load_params(a.init_from), a.init_from);
  }
  const Sets s = load_sets(a, model);
  if (!a.plot_boundary.empty() && s.train.X.rows() != 2)
    throw InputError(fmt::format("--plot-boundary needs 2-feature data; {} has {}", s.train.origin,
                                 s.train.X.rows()));
  train::FitOptions o;
  o.iterations = a.iters;
  o.epochs = a.epochs;
  o.batch_size = continues ? model.batch_size : a.batch_size;
  // A resumed model keeps its optimizer (check_resume refused other flags).
  o.optimizer = resumed && model.minimized() ? model.optimizer() : *optimizer_of(a.optimizer);
  o.normalize = a.normalize;
  o.patience = a.patience;
  o.print_every = a.print_every;
  o.check_numerics = a.check_numerics;
  // Under mpirun the command trains data-parallel over every process.
  o.comm = &dist::Comm::world();
  o.data_parallel.bucket_mb = a.bucket_mb;
  const auto checkpoint = std::make_shared<Checkpoints>();
  o.after_step = checkpoints(a, checkpoint);
  if (!is_root()) o.out = nullptr;  // rank 0 prints the (global) costs
  train::FitResult r = train::fit(model, s.train, s.dev ? &*s.dev : nullptr, o);
  // The cost is computed before each update: the last update can still make
  // a value NaN or Inf, which no file may hold.
  if (const auto bad = models::non_finite_value(model); bad && !r.diverged) {
    r.diverged = true;
    r.message = fmt::format("the last update (iteration {}) made {}; try a smaller --lr", model.steps - 1, *bad);
  }
  // A cost that is not finite before any update comes from the input (data
  // or parameters so large that the cost overflows), not from training.
  if (r.diverged && r.iterations == 0)
    throw InputError(fmt::format("{}: {}; scale the data (--normalize or --scale) or start from "
                                 "smaller parameters", a.data, r.message));
  // A failed run writes nothing but its checkpoints: an earlier --save file
  // stays as it was, or holds the last finite checkpoint, and the line says which.
  if (r.diverged) {
    if (is_root()) fmt::print(stderr, "dagrad: {}; {}\n", r.message, on_disk(a, checkpoint->saved));
    return 1;
  }
  print_metrics("Train", model, s.train);
  if (s.dev) print_metrics("Dev", model, *s.dev);
  if (s.test) print_metrics("Test", model, *s.test);
  write_outputs(a, model, s, r);
  return 0;
}

}  // namespace

void add_train(CLI::App& app, Commands& out) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* c = app.add_subcommand("train", "train a model (a spec, a graph or a saved model) on a data set");
  add_model_source(c, args->source, "a graph file saved from C++ (names its cost, output, params)",
                   "--resume", "continue training a saved model (FILE.dagrad)");
  add_data_flags(c, *args);
  add_fit_flags(c, *args);
  add_output_flags(c, *args);
  out.push_back({c, [args] { return run_train(*args); }});
}

}  // namespace dagrad::cli
