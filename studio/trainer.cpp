#include "dagrad/studio/trainer.hpp"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/train/fit.hpp"

namespace dagrad::studio {

namespace {

// Past this many kept costs, every other one is dropped and the stride doubles.
constexpr std::size_t max_kept_costs = std::size_t{1} << 20;

std::size_t bytes_of(const runtime::Tensor& t) {
  return static_cast<std::size_t>(t.size()) * dtype_size(t.dtype());
}

io::Matrix matrix_of(const ops::Buffer& b, DType dtype) {
  io::Matrix out(b.shape);
  for (std::int64_t i = 0; i < b.shape.size(); ++i)
    out.values[static_cast<std::size_t>(i)] =
        dtype == DType::f32 ? double(b.as<const float>()[i]) : b.as<const double>()[i];
  return out;
}

}  // namespace

Trainer::Trainer(const RunSource& src) {
  const Config& c = src.config;
  if (!src.model_bytes.empty()) {
    model_ = std::make_unique<models::Model>(models::model_from_bytes(src.model_bytes, src.model_origin));
    if (!model_->minimized()) model_->minimize(c.optimizer_config());
  } else {
    model_ = std::make_unique<models::Model>(models::build_mlp(c.spec(), c.dtype_kind()));
    model_->seed = c.seed;
    model_->set_init(c.init_kind());
    model_->minimize(c.optimizer_config());
  }
  models::Model& model = *model_;
  model.init_params(model.seed);
  all_ = src.data ? *src.data : generate(c);
  if (all_.origin.empty()) all_.origin = c.data;
  if (c.dev > 0) {
    std::tie(train_, dev_) = io::split_train_dev(all_, c.dev, model.seed);
  } else {
    train_ = all_;
  }
  // Uploads come in any units: standardized as `dagrad train --normalize` does.
  if (src.data && src.model_bytes.empty() && !model.normalization)
    model.normalization = models::Normalizer::fit(train_.X);
  m_ = train_.samples();
  const std::int64_t batch = src.model_bytes.empty() ? c.batch : model.batch_size;
  batches_.emplace(m_, batch, model.seed);  // as train::fit draws them
  B_ = batches_->batch_size();
  model.batch_size = B_ == m_ ? 0 : B_;
  per_epoch_ = batches_->per_epoch();
  session_ = std::make_unique<train::Session>(model, train::Use::train, B_);
  feeder_ = std::make_unique<train::Feeder>(*session_, train::sample_data(model, train_, true), B_);
  if (batches_->full_batch()) feeder_->feed_range(0, m_);
  for (Expr p : model.params()) params_.push_back(&model.value(p.name()));
  for (const runtime::Tensor* p : params_) entering_.emplace_back(p->dtype(), p->shape());
  train_eval_ = std::make_unique<train::Session>(model, train::Use::evaluate, m_);
  train_eval_feed_ = std::make_unique<train::Feeder>(*train_eval_, train::sample_data(model, train_, true), m_);
  train_eval_feed_->feed_range(0, m_);
  if (dev_.samples() > 0) {
    dev_eval_ = std::make_unique<train::Session>(model, train::Use::evaluate, dev_.samples());
    dev_eval_feed_ =
        std::make_unique<train::Feeder>(*dev_eval_, train::sample_data(model, dev_, true), dev_.samples());
    dev_eval_feed_->feed_range(0, dev_.samples());
  }
  first_step_ = model.steps;
}

std::span<const std::int64_t> Trainer::next_batch() {
  return batches_->batch(model_->steps);
}

// One update, as train::fit's loop makes it: the batch of the model's next
// step, the epoch the learning rate decays by, one run of the plan.
bool Trainer::step() {
  if (diverged_) return false;
  models::Model& model = *model_;
  const std::int64_t step = model.steps;
  const std::int64_t epoch = step / per_epoch_, k = step % per_epoch_;
  const std::span<const std::int64_t> idx = next_batch();
  if (!batches_->full_batch()) feeder_->feed(idx);
  session_->set_epoch(epoch);
  for (std::size_t p = 0; p < params_.size(); ++p)
    std::memcpy(entering_[p].raw(), params_[p]->raw(), bytes_of(*params_[p]));
  session_->run({.training = true, .step = static_cast<std::uint64_t>(step), .samples = idx});
  const double J = session_->scalar(model.cost());
  if (!std::isfinite(J)) {
    for (std::size_t p = 0; p < params_.size(); ++p)
      std::memcpy(params_[p]->raw(), entering_[p].raw(), bytes_of(*params_[p]));
    diverged_ = true;
    message_ = fmt::format("cost is {} at iteration {}: stopped, keeping the parameters before it; "
                           "try a smaller lr, then reset",
                           J, step);
    return false;
  }
  if ((step - first_step_) % stride_ == 0) {
    costs_.push_back(J);
    if (costs_.size() >= max_kept_costs) {
      for (std::size_t i = 0; 2 * i < costs_.size(); ++i) costs_[i] = costs_[2 * i];
      costs_.resize((costs_.size() + 1) / 2);
      stride_ *= 2;
    }
  }
  last_cost_ = J;
  has_cost_ = true;
  ++model.steps;
  if (k + 1 == per_epoch_) model.epochs = epoch + 1;
  return true;
}

Metrics Trainer::evaluate(train::Session* s, const io::Dataset& d) {
  Metrics out;
  if (!s) return out;
  s->run({.training = false, .step = 0});
  out.cost = s->scalar(model_->eval_cost());
  const io::Matrix A = matrix_of(s->value(model_->output()), model_->dtype());
  if (model_->task() == models::Task::regression) out.r2 = train::r_squared(A, d.Y);
  else out.accuracy = train::accuracy(A, d.Y);
  out.valid = true;
  return out;
}

// The evaluation sessions' inputs were bound once (Feeder::feed_range).
Metrics Trainer::evaluate_train() { return evaluate(train_eval_.get(), train_); }
Metrics Trainer::evaluate_dev() { return evaluate(dev_eval_.get(), dev_); }

}  // namespace dagrad::studio
