// A model compiled for one use: its graph optimized (passes::optimize) for
// the outputs that use needs, an Executor planned for `capacity` samples,
// and the model's parameters and optimizer state bound to it in place, so a
// training run updates the model's own values. One session runs batches of
// any size up to its capacity without planning again.
//   train     J and every update: forward, backward and update in one plan
//   evaluate  the evaluation cost and the outputs, in inference mode
//   predict   the outputs alone; nothing but the features is needed
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "dagrad/dist/data_parallel.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/passes/rebuild.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::train {

enum class Use { train, evaluate, predict };

class Session {
 public:
  // `passes` chooses the rewrites; passes::PassOptions::none() runs the
  // unfused graph, the reference the fused one is tested against. With
  // `data_parallel` a training session sums J and the gradients over the
  // processes (dist::data_parallel) before the updates, an evaluation session
  // its cost: run it with RunOptions::batch and ::collectives.
  Session(models::Model& model, Use use, std::int64_t capacity, const passes::PassOptions& passes = {},
          const dist::DataParallelOptions* data_parallel = nullptr);

  runtime::Executor& exec() { return *exec_; }
  const runtime::Executor& exec() const { return *exec_; }
  const Graph& graph() const { return compiled_.graph; }
  // The compiled graph's node for a node of the model's graph, or
  // passes::no_node when the compiled graph does not need it.
  NodeId map(Expr model_node) const;
  // True when the compiled graph takes the sample input (n x m) stored by
  // sample, as its transpose (m x n) (passes/sample_layout.hpp).
  bool by_sample(Expr input) const;
  // Sets the epoch the learning rate decays by (when it does).
  void set_epoch(std::int64_t epoch);
  void run(const runtime::RunOptions& options) { exec_->run(options); }
  double scalar(Expr model_node) const { return exec_->scalar(map(model_node)); }
  ops::Buffer value(Expr model_node) const { return exec_->value(map(model_node)); }

 private:
  models::Model& model_;
  passes::Rewritten compiled_;
  std::unique_ptr<runtime::Executor> exec_;
  runtime::Tensor epoch_;
};

// Feeds the sample inputs of a session: each input's whole data (rows x M),
// and a batch buffer of the session's capacity that the columns of a batch
// are gathered into. An input the session stores by sample
// (Session::by_sample) is kept as (M x rows): a batch is whole rows, and a
// range of samples binds in place. Nothing is allocated per batch.
class Feeder {
 public:
  // `data` pairs a sample input of the model with its data (rows x M); all
  // have M columns. Inputs the session does not need are skipped.
  Feeder(Session& session, std::vector<std::pair<Expr, runtime::Tensor>> data,
         std::int64_t capacity);
  std::int64_t samples() const { return samples_; }
  // The columns idx (a mini-batch) of every input, bound to the session.
  void feed(std::span<const std::int64_t> idx);
  // Columns [begin, end) of every input; the whole data is bound in place.
  void feed_range(std::int64_t begin, std::int64_t end);

 private:
  struct Input {
    NodeId node;
    // The data and a batch buffer, as the compiled graph takes them: (rows x
    // M) and (rows x capacity), or, when the session stores the input by
    // sample (rows_layout), (M x rows) and (capacity x rows).
    runtime::Tensor all, batch;
    runtime::Tensor by_sample;  // `all` transposed, made at the first feed() of a wide input
    bool rows_layout = false;
  };
  void feed(Input& in, std::span<const std::int64_t> idx);
  // Binds (shape) at element `offset` of t, one of in's tensors.
  void bind(const Input& in, const runtime::Tensor& t, std::int64_t offset, Shape shape);

  Session& session_;
  std::vector<Input> inputs_;
  std::int64_t samples_ = 0;
};

// The data of the model's sample inputs from a data set: the features with
// the model's normalization applied, the labels as targets_for makes them
// (with_labels), and Dataset::inputs by input name. InputError for data the
// model has no input for, and for a feature count that does not fit.
std::vector<std::pair<Expr, runtime::Tensor>> sample_data(const models::Model& model,
                                                          const io::Dataset& data,
                                                          bool with_labels);

// Y as the model's labels input wants it: as given when the row counts
// agree; for a softmax output of K units, integer labels (1 x m) become
// one-hot columns (K x m). Any other row count is an InputError naming the
// labels input, both shapes and the fix.
io::Matrix targets_for(const models::Model& model, const io::Matrix& Y, std::string_view origin);

}  // namespace dagrad::train
