#include "dagrad/train/fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/limits.hpp"
#include "dagrad/models/validate.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/viz/progress.hpp"

namespace dagrad::train {

namespace {

constexpr double log_2 = 0.69314718055994530942;

std::size_t bytes_of(const runtime::Tensor& t) {
  return static_cast<std::size_t>(t.size()) * dtype_size(t.dtype());
}

void check_options(const FitOptions& o, std::int64_t m) {
  // Named as a C++ caller sets them, with the CLI's flag beside.
  if (o.iterations < 0 || o.epochs < 0)
    throw InputError(fmt::format("FitOptions::iterations ({}) and epochs ({}) must be >= 0 (--iters, --epochs)",
                                 o.iterations, o.epochs));
  if ((o.iterations > 0) == (o.epochs > 0))
    throw InputError(fmt::format("FitOptions: set exactly one of iterations ({}) and epochs ({}) "
                                 "(--iters or --epochs)", o.iterations, o.epochs));
  if (o.batch_size < 0)
    throw InputError(fmt::format("FitOptions::batch_size (--batch-size) {} must be >= 1, or 0 for the full batch",
                                 o.batch_size));
  if (o.patience < 0)
    throw InputError(fmt::format("FitOptions::patience (--patience) {} must be >= 0", o.patience));
  if (m < 1) throw InputError("the training set has no samples");
  o.optimizer.validate();
}

// A model minimized before (a fit, a file) keeps its update nodes: an
// optimizer set in the options that differs from them would be ignored, so it
// is refused. The default OptimizerConfig means "the model's own".
void check_optimizer(const models::Model& model, const OptimizerConfig& asked) {
  if (!model.minimized() || asked == OptimizerConfig{} || asked == model.optimizer()) return;
  const OptimizerConfig& has = model.optimizer();
  throw InputError(fmt::format(
      "FitOptions::optimizer ({}, learning rate {:g}) differs from the optimizer the model already "
      "has ({}, learning rate {:g}); a minimized model keeps its update nodes: leave "
      "FitOptions::optimizer at its default or give the model's own",
      name_of(asked.kind), asked.learning_rate, name_of(has.kind), has.learning_rate));
}

// A shard (io::LoadOptions::shard) is part of a set: only a data-parallel
// run over the processes that hold the other parts may take it.
void check_whole(const io::Dataset& d, const dist::Comm& comm) {
  if (!comm.distributed() && d.samples() != d.total_samples())
    throw InputError(fmt::format("{}: holds {} of the set's {} samples (a shard, io::LoadOptions::shard), but "
                                 "this run is on one process; to train data-parallel set FitOptions::comm "
                                 "(&dist::Comm::world() under mpirun), else load the whole set",
                                 d.origin, d.samples(), d.total_samples()));
}

class Trainer {
 public:
  Trainer(models::Model& model, const io::Dataset& train, const io::Dataset* dev,
          const FitOptions& o);
  FitResult run();

 private:
  void setup_dev(const io::Dataset& dev);
  const io::Dataset& own_part(const io::Dataset& d, io::Dataset& keep);
  void share_values();
  void select_local(std::span<const std::int64_t> batch);
  bool iterate();
  bool stop_on_bad_cost(double J);
  void watch_plateau(double J);
  bool check_dev();
  void save_params(std::vector<runtime::Tensor>& to);
  void restore_params(const std::vector<runtime::Tensor>& from);
  template <class... Args> void say(fmt::format_string<Args...> f, Args&&... args);

  models::Model& model_;
  const FitOptions& o_;
  // Data-parallel (dp_): this process's shard of the training set (data_),
  // the global index of each of its columns, and the part of the current
  // batch it holds (its columns, their global indices).
  dist::Comm& comm_;
  const bool dp_;
  io::Dataset shard_, dev_shard_;
  const io::Dataset* data_;
  std::vector<std::int64_t> index_, local_cols_, local_samples_;
  std::int64_t dev_total_ = 0;
  std::int64_t m_, B_, per_epoch_ = 1, total_, check_every_;
  std::unique_ptr<Session> session_, dev_session_;
  std::unique_ptr<Feeder> feeder_, dev_feeder_;
  std::optional<BatchSchedule> batches_;
  std::vector<runtime::Tensor*> params_;
  // The parameters before this run (entering_) and before the previous one
  // (last_good_): a NaN cost at this run was computed from entering_, so the
  // last parameters with a finite cost are last_good_.
  std::vector<runtime::Tensor> entering_, last_good_, best_;
  std::unique_ptr<viz::ProgressBar> bar_;
  FitResult r_;
  std::int64_t since_best_ = 0, at_log2_ = 0;
  double epoch_sum_ = 0;
  double last_cost_ = 0;
};

template <class... Args>
void Trainer::say(fmt::format_string<Args...> f, Args&&... args) {
  if (!o_.out) return;
  // Clear the progress bar's line first, so the bar redraws under the text.
  if (bar_ && bar_->active()) fmt::print(o_.out, "\r\033[K");
  fmt::print(o_.out, f, std::forward<Args>(args)...);
  std::fflush(o_.out);
}

// This process's part of a data set: the shard itself, or the block of a
// whole set (kept in `keep`).
const io::Dataset& Trainer::own_part(const io::Dataset& d, io::Dataset& keep) {
  if (d.is_shard()) return d;
  keep = io::shard_of(d, comm_.rank(), comm_.size());
  return keep;
}

// Rank 0's parameters and optimizer state on every process, so that all
// start from the same bits whatever each one initialized or read.
void Trainer::share_values() {
  for (const std::string& name : model_.value_names()) {
    runtime::Tensor& t = model_.value(name);
    comm_.broadcast(std::span(static_cast<std::byte*>(t.raw()), bytes_of(t)));
  }
}

Trainer::Trainer(models::Model& model, const io::Dataset& train, const io::Dataset* dev,
                 const FitOptions& o)
    : model_(model), o_(o), comm_(o.comm ? *o.comm : dist::Comm::self()),
      dp_(comm_.distributed()), data_(dp_ ? &own_part(train, shard_) : &train),
      m_(train.total_samples()) {
  check_options(o, m_);
  check_whole(train, comm_);
  if (dev) check_whole(*dev, comm_);
  if (dp_) {
    double held = static_cast<double>(data_->samples());
    comm_.sum(std::span(&held, 1));
    if (held != static_cast<double>(m_))
      throw InputError(fmt::format("{}: the processes hold {} samples of a set of {}; give each "
                                   "its shard of one data set", train.origin, held, m_));
    index_ = data_->index;
  }
  check_optimizer(model, o.optimizer);
  models::check_reserved_names(model, "fit");  // before any work: save_model would refuse them
  if (!model.minimized()) model.minimize(o.optimizer);
  model.init_params(model.seed);
  if (dp_) share_values();
  if (o.normalize && !model.normalization)
    model.normalization = models::Normalizer::fit(data_->X, comm_, m_);
  model.batch_size = o.batch_size;
  batches_.emplace(m_, o.batch_size, model.seed);
  B_ = batches_->batch_size();
  per_epoch_ = batches_->per_epoch();
  if (o.epochs > std::numeric_limits<std::int64_t>::max() / per_epoch_)
    throw InputError(fmt::format("FitOptions::epochs (--epochs) {} of {} mini-batches each is more updates than an int64 counts",
                                 o.epochs, per_epoch_));
  total_ = o.iterations > 0 ? o.iterations : o.epochs * per_epoch_;
  // The cost of every update is kept (FitResult::costs): refuse a count
  // whose list would not fit in memory, before reserving it.
  io::check_memory(static_cast<std::uint64_t>(total_) > ~std::uint64_t{0} / sizeof(double)
                       ? ~std::uint64_t{0}
                       : static_cast<std::uint64_t>(total_) * sizeof(double),
                   fmt::format("keeping the cost of {} updates", total_));
  check_every_ = o.epochs > 0 || o.print_every <= 0 ? per_epoch_ : o.print_every;
  r_.first_iteration = model.steps;

  // A process holds at most min(B, its samples) of a batch.
  const std::int64_t capacity = dp_ ? std::clamp<std::int64_t>(data_->samples(), 1, B_) : B_;
  session_ = std::make_unique<Session>(model, Use::train, capacity, o.passes,
                                       dp_ ? &o.data_parallel : nullptr);
  feeder_ = std::make_unique<Feeder>(*session_, sample_data(model, *data_, true), capacity);
  // Full batch: the data set (this process's part of it) is the batch.
  if (batches_->full_batch()) feeder_->feed_range(0, data_->samples());
  local_cols_.reserve(static_cast<std::size_t>(capacity));
  local_samples_.reserve(static_cast<std::size_t>(capacity));
  for (Expr p : model.params()) params_.push_back(&model.value(p.name()));
  for (const runtime::Tensor* p : params_) {
    last_good_.emplace_back(p->dtype(), p->shape());
    entering_.emplace_back(p->dtype(), p->shape());
  }
  if (dev && o.patience > 0 && dev->total_samples() > 0) setup_dev(*dev);
  const auto left = std::max<std::int64_t>(0, total_ - model.steps);
  r_.costs.reserve(static_cast<std::size_t>(left));
  r_.epoch_costs.reserve(static_cast<std::size_t>(left / per_epoch_ + 1));
  r_.dev_costs.reserve(static_cast<std::size_t>(left / check_every_ + 2));
  // NOTE: under mpirun every process's stdout is a pseudo-terminal that
  // Open MPI forwards, even into a redirected log: isatty says nothing
  // there, so a launched process never draws the bar (its \r and ESC[K
  // would land in the log). The "Cost after ..." lines still print.
  if (o.out && o.progress && left > 0 && !dist::launched_by_mpi())
    bar_ = std::make_unique<viz::ProgressBar>(left, o.out);
}

void Trainer::setup_dev(const io::Dataset& whole) {
  const io::Dataset& dev = dp_ ? own_part(whole, dev_shard_) : whole;
  dev_total_ = whole.total_samples();
  const std::int64_t capacity = std::max<std::int64_t>(dev.samples(), 1);
  dev_session_ = std::make_unique<Session>(model_, Use::evaluate, capacity, o_.passes,
                                           dp_ ? &o_.data_parallel : nullptr);
  dev_feeder_ = std::make_unique<Feeder>(*dev_session_, sample_data(model_, dev, true), capacity);
  dev_feeder_->feed_range(0, dev.samples());
  for (const runtime::Tensor* p : params_) best_.emplace_back(p->dtype(), p->shape());
}

void Trainer::save_params(std::vector<runtime::Tensor>& to) {
  for (std::size_t k = 0; k < params_.size(); ++k)
    std::memcpy(to[k].raw(), params_[k]->raw(), bytes_of(*params_[k]));
}

void Trainer::restore_params(const std::vector<runtime::Tensor>& from) {
  for (std::size_t k = 0; k < params_.size(); ++k)
    std::memcpy(params_[k]->raw(), from[k].raw(), bytes_of(*params_[k]));
}

// Data-parallel: the samples of the global `batch` that this process holds,
// in batch order, as its columns and their global indices.
void Trainer::select_local(std::span<const std::int64_t> batch) {
  local_cols_.clear();
  local_samples_.clear();
  for (const std::int64_t i : batch) {
    const auto at = std::lower_bound(index_.begin(), index_.end(), i);
    if (at == index_.end() || *at != i) continue;
    local_cols_.push_back(at - index_.begin());
    local_samples_.push_back(i);
  }
}

// One update: the batch of the model's next step, then one run of the plan
// (forward, backward and update). Data-parallel, each process binds the
// part of the batch it holds (maybe none), keyed by the samples' global
// indices, and every 1/m divides by the whole batch's count.
bool Trainer::iterate() {
  const std::int64_t step = model_.steps;
  const std::int64_t epoch = step / per_epoch_, k = step % per_epoch_;
  if (k == 0) epoch_sum_ = 0;
  std::span<const std::int64_t> idx, samples = dp_ ? std::span<const std::int64_t>(index_) : idx;
  if (!batches_->full_batch()) {
    idx = batches_->batch(step);
    if (dp_) select_local(idx);
    feeder_->feed(dp_ ? std::span<const std::int64_t>(local_cols_) : idx);
    samples = dp_ ? std::span<const std::int64_t>(local_samples_) : idx;
  }
  session_->set_epoch(epoch);
  std::swap(entering_, last_good_);
  save_params(entering_);
  session_->run({.training = true,
                 .step = static_cast<std::uint64_t>(step),
                 .check_numerics = o_.check_numerics,
                 .samples = samples,
                 .batch = !dp_ ? 0 : !batches_->full_batch() ? static_cast<std::int64_t>(idx.size()) : m_,
                 .collectives = dp_ ? &comm_ : nullptr});
  const double J = session_->scalar(model_.cost());
  if (stop_on_bad_cost(J)) return false;
  r_.costs.push_back(J);
  last_cost_ = J;
  const auto b = !batches_->full_batch() ? static_cast<std::int64_t>(idx.size()) : m_;
  epoch_sum_ += J * static_cast<double>(b);
  watch_plateau(J);
  if (o_.epochs == 0 && o_.print_every > 0 && step % o_.print_every == 0)
    say("Cost after iteration {}: {}\n", step, viz::format_cost(J));
  ++model_.steps;
  ++r_.iterations;
  if (k + 1 == per_epoch_) {
    model_.epochs = epoch + 1;
    r_.epoch_costs.push_back(epoch_sum_ / static_cast<double>(m_));
    if (o_.epochs > 0 && o_.print_every > 0 && epoch % o_.print_every == 0)
      say("Cost after epoch {}: {}\n", epoch, viz::format_cost(r_.epoch_costs.back()));
  }
  if (bar_) bar_->update(r_.iterations, J);
  if (o_.after_step) o_.after_step(model_);
  return true;
}

bool Trainer::stop_on_bad_cost(double J) {
  if (std::isfinite(J)) return false;
  r_.diverged = true;
  restore_params(r_.iterations == 0 ? entering_ : last_good_);
  if (r_.iterations == 0) {
    r_.message = fmt::format("cost is {} at iteration {}: the parameters already give a "
                             "non-finite cost; stopping", J, model_.steps);
  } else {
    r_.message = fmt::format("cost is {} at iteration {}: stopping and keeping the parameters of "
                             "iteration {} (cost {:.6g}); try a smaller --lr",
                             J, model_.steps, model_.steps - 1, last_cost_);
  }
  return true;
}

void Trainer::watch_plateau(double J) {
  at_log2_ = std::abs(J - log_2) < 1e-6 ? at_log2_ + 1 : 0;
  if (at_log2_ < o_.plateau_window || r_.plateau) return;
  r_.plateau = true;
  say("warning: the cost has stayed at log 2 = 0.693147 for {} iterations (up to iteration {}): "
      "nothing is being learned. Zero (symmetric) weights keep every hidden unit identical; "
      "try --init he or --init xavier\n", at_log2_, model_.steps);
}

// One early-stopping check: false when the dev cost has not improved for
// `patience` checks.
bool Trainer::check_dev() {
  if (!dev_session_) return true;
  dev_session_->run({.training = false, .step = 0, .batch = dp_ ? dev_total_ : 0,
                     .collectives = dp_ ? &comm_ : nullptr});
  const double c = dev_session_->scalar(model_.eval_cost());
  r_.dev_costs.push_back(c);
  if (std::isfinite(c) && !(c >= r_.best_dev_cost)) {  // NaN best: first check wins
    r_.best_dev_cost = c;
    save_params(best_);
    since_best_ = 0;
    return true;
  }
  return ++since_best_ < o_.patience;
}

FitResult Trainer::run() {
  while (model_.steps < total_) {
    if (!iterate()) break;
    if (model_.steps % check_every_ == 0 && !check_dev()) {
      r_.early_stopped = true;
      r_.message = fmt::format("early stopping at iteration {}: the dev cost has not improved "
                               "for {} checks (best {:.6g})",
                               model_.steps, o_.patience, r_.best_dev_cost);
      break;
    }
  }
  if (dev_session_ && !r_.diverged && !r_.early_stopped && r_.iterations > 0 &&
      model_.steps % check_every_ != 0)
    check_dev();
  if (dev_session_ && std::isfinite(r_.best_dev_cost)) restore_params(best_);
  if (bar_) bar_->finish();
  if (!r_.message.empty()) say("{}\n", r_.message);
  return std::move(r_);
}

}  // namespace

FitResult fit(models::Model& model, const io::Dataset& train, const io::Dataset* dev,
              const FitOptions& options) {
  Trainer t(model, train, dev, options);
  return t.run();
}

}  // namespace dagrad::train
