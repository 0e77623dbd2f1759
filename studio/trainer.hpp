// One training run of the studio: the data (split into train and dev), the
// model and the plan that trains it, stepped one update at a time. It is
// train::fit's loop taken apart (Session, Feeder, BatchSampler: the same
// batches, the same dropout steps, the same plan), so that the engine can
// play, pause and step it; a run of n steps makes the updates `dagrad train
// --iters n` makes on the same data and seed.
//
// Not thread-safe: the engine holds its lock around every call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dagrad/io/dataset.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/studio/config.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/train/session.hpp"

namespace dagrad::studio {

// What the run is made from; kept so that a reset rebuilds it bit for bit.
struct RunSource {
  Config config;                          // the MLP's settings (unused by a loaded model)
  std::optional<io::Dataset> data;        // the whole data set: an upload or --data; else generated
  std::vector<std::uint8_t> model_bytes;  // a saved model (--model): rewinds to it
  std::string model_origin;
};

struct Metrics {
  double cost = 0;           // evaluation cost (no L2, no dropout)
  double accuracy = 0, r2 = 0;
  bool valid = false;
};

class Trainer {
 public:
  // InputError / GraphError for a model and data that do not fit.
  explicit Trainer(const RunSource& source);

  models::Model& model() { return *model_; }
  const models::Model& model() const { return *model_; }
  const io::Dataset& train_set() const { return train_; }
  const io::Dataset& dev_set() const { return dev_; }
  const io::Dataset& all_data() const { return all_; }
  std::int64_t per_epoch() const { return per_epoch_; }
  std::int64_t batch_size() const { return B_; }

  // One update. False (and `message` set) when the cost is NaN or Inf: the
  // run stops there, its parameters those of the last finite cost.
  bool step();
  const std::string& message() const { return message_; }
  bool diverged() const { return diverged_; }
  double last_cost() const { return last_cost_; }
  bool has_cost() const { return has_cost_; }

  // The sample indices of the next update's batch (empty: the whole training
  // set), as step() will draw them.
  std::span<const std::int64_t> next_batch();

  // Cost and metric on the training and dev sets at the current parameters.
  Metrics evaluate_train();
  Metrics evaluate_dev();  // valid = false without a dev set

  // Costs J of every update (downsampled by `stride` once long): entry k is
  // the cost of update k * stride.
  const std::vector<double>& costs() const { return costs_; }
  std::int64_t cost_stride() const { return stride_; }
  std::int64_t first_step() const { return first_step_; }

 private:
  Metrics evaluate(train::Session* s, const io::Dataset& d);

  std::unique_ptr<models::Model> model_;
  io::Dataset all_, train_, dev_;
  std::int64_t m_ = 0, B_ = 0, per_epoch_ = 1;
  std::unique_ptr<train::Session> session_, train_eval_, dev_eval_;
  std::unique_ptr<train::Feeder> feeder_, train_eval_feed_, dev_eval_feed_;
  std::optional<train::BatchSchedule> batches_;
  std::vector<runtime::Tensor*> params_;
  std::vector<runtime::Tensor> entering_;  // the parameters before the current update
  std::vector<double> costs_;
  std::int64_t stride_ = 1, first_step_ = 0;
  double last_cost_ = 0;
  bool has_cost_ = false, diverged_ = false;
  std::string message_;
};

}  // namespace dagrad::studio
