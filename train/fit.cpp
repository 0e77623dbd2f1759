#include "dagrad/train/fit.hpp"

#include <cmath>
#include <cstring>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/limits.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/train/plan.hpp"
#include "dagrad/viz/progress.hpp"

namespace dagrad::train {

namespace {

constexpr double log_2 = 0.69314718055994530942;

std::size_t bytes_of(const runtime::Tensor& t) {
  return static_cast<std::size_t>(t.size()) * (t.dtype() == DType::f32 ? 4 : 8);
}

// memcpy between Tensors of the same shapes: no allocation.
void copy_params(std::span<const runtime::Tensor> from, std::span<runtime::Tensor> to) {
  for (std::size_t k = 0; k < from.size(); ++k)
    std::memcpy(to[k].raw(), from[k].raw(), bytes_of(from[k]));
}

std::vector<runtime::Tensor> zeros_like(std::span<const runtime::Tensor> ps) {
  std::vector<runtime::Tensor> out;
  for (const auto& p : ps) out.emplace_back(p.dtype(), p.shape());
  return out;
}

void check_options(const FitOptions& o, std::int64_t m) {
  if ((o.iterations > 0) == (o.epochs > 0))
    throw InputError(fmt::format("give exactly one of --iters ({}) and --epochs ({})",
                                 o.iterations, o.epochs));
  if (o.iterations < 0 || o.epochs < 0) throw InputError("--iters/--epochs must be positive");
  if (!(o.learning_rate > 0.0) || !std::isfinite(o.learning_rate))
    throw InputError(fmt::format("--lr {} must be a positive number", o.learning_rate));
  if (o.batch_size < 0) throw InputError(fmt::format("--batch-size {} must be >= 1", o.batch_size));
  if (!(o.decay_rate >= 0.0)) throw InputError(fmt::format("--decay-rate {} must be >= 0", o.decay_rate));
  if (o.patience < 0) throw InputError(fmt::format("--patience {} must be >= 0", o.patience));
  if (m < 1) throw InputError("the training set has no samples");
  o.optimizer.validate();
}

class Trainer {
 public:
  Trainer(const models::ModelSpec& spec, const io::Dataset& train, const io::Dataset* dev,
          const FitOptions& o);
  FitResult run();

 private:
  void setup_params();
  void setup_plans(const io::Dataset& train, const io::Dataset* dev);
  bool iterate(std::int64_t epoch, std::int64_t k);
  bool stop_on_bad_cost(double J);
  void watch_plateau(double J);
  bool check_dev();
  template <class... Args> void say(fmt::format_string<Args...> f, Args&&... args);

  const models::ModelSpec& spec_;
  const FitOptions& o_;
  std::int64_t m_, B_, per_epoch_ = 1, total_, check_every_;
  runtime::Tensor X_, Y_, Xb_, Yb_, Xp_, Yp_, dev_X_, dev_Y_;
  std::unique_ptr<Plan> full_, part_, dev_;
  std::optional<BatchSampler> sampler_;
  std::vector<runtime::Tensor> last_good_, best_;
  std::optional<Optimizer> opt_;
  std::unique_ptr<viz::ProgressBar> bar_;
  FitResult r_;
  std::int64_t it_ = 0, since_best_ = 0, at_log2_ = 0;
  double epoch_sum_ = 0;
};

template <class... Args>
void Trainer::say(fmt::format_string<Args...> f, Args&&... args) {
  if (!o_.out) return;
  // Clear the progress bar's line first, so the bar redraws under the text.
  if (bar_ && bar_->active()) fmt::print(o_.out, "\r\033[K");
  fmt::print(o_.out, f, std::forward<Args>(args)...);
  std::fflush(o_.out);
}

Trainer::Trainer(const models::ModelSpec& spec, const io::Dataset& train, const io::Dataset* dev,
                 const FitOptions& o)
    : spec_(spec), o_(o), m_(train.samples()) {
  spec.validate();
  check_options(o, m_);
  if (train.X.rows() != spec.layers[0])
    throw InputError(fmt::format("{}: the data has {} features but --layers starts with n[0] = {}",
                                 train.origin, train.X.rows(), spec.layers[0]));
  B_ = (o.batch_size == 0 || o.batch_size >= m_) ? m_ : o.batch_size;
  per_epoch_ = (m_ + B_ - 1) / B_;
  if (o.epochs > std::numeric_limits<std::int64_t>::max() / per_epoch_)
    throw InputError(fmt::format("--epochs {} of {} mini-batches each is more updates than an int64 counts",
                                 o.epochs, per_epoch_));
  total_ = o.iterations > 0 ? o.iterations : o.epochs * per_epoch_;
  // The cost of every update is kept (FitResult::costs): refuse a count
  // whose list would not fit in memory, before reserving it.
  io::check_memory(static_cast<std::uint64_t>(total_) > ~std::uint64_t{0} / sizeof(double)
                       ? ~std::uint64_t{0}
                       : static_cast<std::uint64_t>(total_) * sizeof(double),
                   fmt::format("keeping the cost of {} updates", total_));
  check_every_ = o.epochs > 0 || o.print_every <= 0 ? per_epoch_ : o.print_every;
  setup_params();
  setup_plans(train, o.patience > 0 ? dev : nullptr);
  r_.costs.reserve(static_cast<std::size_t>(total_));
  r_.epoch_costs.reserve(static_cast<std::size_t>(total_ / per_epoch_ + 1));
  r_.dev_costs.reserve(static_cast<std::size_t>(total_ / check_every_ + 2));
  if (o.out && o.progress) bar_ = std::make_unique<viz::ProgressBar>(total_, o.out);
}

void Trainer::setup_params() {
  if (!o_.initial.empty()) {
    for (const auto& p : o_.initial)
      if (p.dtype() != o_.dtype)
        throw InputError("initial parameters have another dtype than --dtype");
    for (const auto& p : o_.initial) r_.params.push_back(p);
  } else {
    Graph g(o_.dtype);
    r_.params = init_params(models::build_mlp(g, spec_, 1), o_.init, o_.seed, o_.dtype);
  }
  last_good_ = zeros_like(r_.params);
  opt_.emplace(o_.optimizer, r_.params);
}

void Trainer::setup_plans(const io::Dataset& train, const io::Dataset* dev) {
  X_ = runtime::Tensor::from_matrix(train.X, o_.dtype);
  Y_ = runtime::Tensor::from_matrix(targets_for(spec_, train.Y, train.origin), o_.dtype);
  full_ = make_plan(spec_, B_, o_.dtype, PlanKind::train);
  bind_params(*full_, r_.params);
  if (B_ == m_) {  // full batch: the data set itself is the batch
    full_->exec->bind(full_->model.X.id, X_);
    full_->exec->bind(full_->model.Y.id, Y_);
  } else {
    sampler_.emplace(m_, B_, o_.seed ^ 0x9e3779b97f4a7c15ull);
    Xb_ = runtime::Tensor(o_.dtype, {X_.shape().rows, B_});
    Yb_ = runtime::Tensor(o_.dtype, {Y_.shape().rows, B_});
    full_->exec->bind(full_->model.X.id, Xb_);
    full_->exec->bind(full_->model.Y.id, Yb_);
    if (const std::int64_t rest = m_ % B_; rest > 0) {
      part_ = make_plan(spec_, rest, o_.dtype, PlanKind::train);
      bind_params(*part_, r_.params);
      Xp_ = runtime::Tensor(o_.dtype, {X_.shape().rows, rest});
      Yp_ = runtime::Tensor(o_.dtype, {Y_.shape().rows, rest});
      part_->exec->bind(part_->model.X.id, Xp_);
      part_->exec->bind(part_->model.Y.id, Yp_);
    }
  }
  if (dev && dev->samples() > 0) {
    dev_X_ = runtime::Tensor::from_matrix(dev->X, o_.dtype);
    dev_Y_ = runtime::Tensor::from_matrix(targets_for(spec_, dev->Y, dev->origin), o_.dtype);
    dev_ = make_plan(spec_, dev->samples(), o_.dtype, PlanKind::evaluate);
    bind_params(*dev_, r_.params);
    dev_->exec->bind(dev_->model.X.id, dev_X_);
    dev_->exec->bind(dev_->model.Y.id, dev_Y_);
    best_ = zeros_like(r_.params);
  }
}

template <class T>
void gather(const runtime::Tensor& src, std::span<const std::int64_t> idx, runtime::Tensor& dst) {
  gather_columns(src.data<T>(), src.shape().rows, src.shape().cols, idx, dst.data<T>());
}

bool Trainer::iterate(std::int64_t epoch, std::int64_t k) {
  Plan* p = full_.get();
  if (sampler_) {
    const auto idx = sampler_->batch(k);
    const bool partial = static_cast<std::int64_t>(idx.size()) != B_;
    if (partial) p = part_.get();
    runtime::Tensor& xb = partial ? Xp_ : Xb_;
    runtime::Tensor& yb = partial ? Yp_ : Yb_;
    if (o_.dtype == DType::f32) { gather<float>(X_, idx, xb); gather<float>(Y_, idx, yb); }
    else { gather<double>(X_, idx, xb); gather<double>(Y_, idx, yb); }
  }
  p->exec->run({.training = true, .step = static_cast<std::uint64_t>(it_), .check_numerics = o_.check_numerics});
  const double J = p->exec->scalar(p->model.J.id);
  if (stop_on_bad_cost(J)) return false;
  r_.costs.push_back(J);
  epoch_sum_ += J * static_cast<double>(p->model.X.shape().cols);
  watch_plateau(J);
  if (o_.epochs == 0 && o_.print_every > 0 && it_ % o_.print_every == 0)
    say("Cost after iteration {}: {:.6f}\n", it_, J);
  copy_params(r_.params, last_good_);
  const double lr = o_.learning_rate / (1.0 + o_.decay_rate * static_cast<double>(epoch));
  opt_->step(r_.params, p->grad_values, lr);
  ++it_;
  r_.iterations = it_;
  if (bar_) bar_->update(it_, J);
  return true;
}

bool Trainer::stop_on_bad_cost(double J) {
  if (std::isfinite(J)) return false;
  r_.diverged = true;
  if (it_ == 0) {
    r_.message = fmt::format("cost is {} at iteration 0: the initial parameters already give a "
                             "non-finite cost; stopping", J);
  } else {
    copy_params(last_good_, r_.params);
    r_.message = fmt::format("cost is {} at iteration {}: stopping and keeping the parameters of "
                             "iteration {} (cost {:.6g}); try a smaller --lr",
                             J, it_, it_ - 1, r_.costs.back());
  }
  return true;
}

void Trainer::watch_plateau(double J) {
  at_log2_ = std::abs(J - log_2) < 1e-6 ? at_log2_ + 1 : 0;
  if (at_log2_ < o_.plateau_window || r_.plateau) return;
  r_.plateau = true;
  say("warning: the cost has stayed at log 2 = 0.693147 for {} iterations (up to iteration {}): "
      "nothing is being learned. Zero (symmetric) weights keep every hidden unit identical; "
      "try --init he or --init xavier\n", at_log2_, it_);
}

// One early-stopping check: false when the dev cost has not improved for
// `patience` checks.
bool Trainer::check_dev() {
  if (!dev_) return true;
  dev_->exec->run({.training = false, .step = 0});
  const double c = dev_->exec->scalar(dev_->model.cost.id);
  r_.dev_costs.push_back(c);
  if (std::isfinite(c) && !(c >= r_.best_dev_cost)) {  // NaN best: first check wins
    r_.best_dev_cost = c;
    copy_params(r_.params, best_);
    since_best_ = 0;
    return true;
  }
  return ++since_best_ < o_.patience;
}

FitResult Trainer::run() {
  bool going = true;
  for (std::int64_t epoch = 0; going && it_ < total_; ++epoch) {
    if (sampler_) sampler_->shuffle();
    epoch_sum_ = 0;
    std::int64_t k = 0;
    for (; k < per_epoch_ && it_ < total_; ++k) {
      if (!(going = iterate(epoch, k))) break;
      if (it_ % check_every_ == 0 && !(going = check_dev())) {
        r_.early_stopped = true;
        r_.message = fmt::format("early stopping at iteration {}: the dev cost has not improved "
                                 "for {} checks (best {:.6g})", it_, o_.patience, r_.best_dev_cost);
        ++k;  // this batch was done
        break;
      }
    }
    if (k < per_epoch_) break;  // stopped inside the epoch: no epoch cost
    r_.epochs = epoch + 1;
    r_.epoch_costs.push_back(epoch_sum_ / static_cast<double>(m_));
    if (o_.epochs > 0 && o_.print_every > 0 && epoch % o_.print_every == 0)
      say("Cost after epoch {}: {:.6f}\n", epoch, r_.epoch_costs.back());
  }
  if (dev_ && !r_.diverged && !r_.early_stopped && it_ % check_every_ != 0) check_dev();
  if (dev_ && std::isfinite(r_.best_dev_cost)) copy_params(best_, r_.params);
  if (bar_) bar_->finish();
  if (!r_.message.empty()) say("{}\n", r_.message);
  return std::move(r_);
}

}  // namespace

FitResult fit(const models::ModelSpec& spec, const io::Dataset& train, const io::Dataset* dev,
              const FitOptions& options) {
  Trainer t(spec, train, dev, options);
  return t.run();
}

}  // namespace dagrad::train
