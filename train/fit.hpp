// Training and inference for any model (models::Model):
//   fit       attaches the optimizer's update nodes (once), initializes the
//             parameters that have no value, and repeats one plan that runs
//             forward, backward and update over full or mini-batches
//   evaluate  the evaluation cost and the metric of the model's task
//   predict   the outputs for new data (Predictor: one plan, any batch)
// Mini-batches are cut over every input whose shape holds m: the features
// X, the labels Y and any other (Dataset::inputs), shuffled per epoch, the
// last partial batch kept, all on one plan. `iterations` and `epochs` are
// totals: a model that has made 20 epochs and is fit to 40 makes 20 more,
// as the uninterrupted run would have.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dagrad/dist/comm.hpp"
#include "dagrad/dist/data_parallel.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/serve/inference_plan.hpp"
#include "dagrad/train/optimizer.hpp"
#include "dagrad/train/session.hpp"

namespace dagrad::train {

struct FitOptions {
  std::int64_t iterations = 0;           // total updates, or
  std::int64_t epochs = 0;               // total passes over the data: exactly one is > 0
  std::int64_t batch_size = 0;           // 0 or >= m: full batch
  OptimizerConfig optimizer;             // attached when the model has no optimizer yet
  bool normalize = false;                // standardize the features (when the model has no
                                         // normalization yet: mu, sigma of this training set)
  std::int64_t patience = 0;             // early stopping on the dev set; 0 = off
  std::int64_t print_every = 100;        // "Cost after ..." lines; 0 = none
  std::FILE* out = stdout;               // cost lines and warnings; nullptr = silent
  bool progress = true;                  // viz::ProgressBar when `out` is a terminal
  std::int64_t plateau_window = 100;     // warn after this many iterations at log 2
  bool check_numerics = false;           // NumericError at the first node giving NaN/Inf
  passes::PassOptions passes;            // PassOptions::none(): the unfused graph (the reference)
  // Data-parallel training is asked for, never implied: nullptr (the
  // default) trains on this process alone, under mpirun too (each process
  // of a job then makes its own run). Set `comm` to the processes to train
  // over, &dist::Comm::world() for every process of the mpirun job: with
  // more than one, each trains on its shard of the data
  // (io::LoadOptions::shard, or the block of a whole data set that fit
  // cuts) and they make the updates one process would make on the whole
  // set; see README "Data-parallel training". A shard given without such a
  // `comm` is refused (it is not the whole set).
  dist::Comm* comm = nullptr;
  dist::DataParallelOptions data_parallel;  // the gradient buckets' size
  // Called after every update, on every process, with the model's steps and
  // epochs counted: checkpoints (save_model on one process) and tests.
  std::function<void(const models::Model&)> after_step;
};

struct FitResult {
  std::vector<double> costs;             // costs[i]: J of this call's update i, before it
  std::vector<double> epoch_costs;       // per epoch: sample-weighted mean of batch J
  std::vector<double> dev_costs;         // per early-stopping check
  std::int64_t first_iteration = 0;      // the model's step count when this call began
  std::int64_t iterations = 0;           // updates applied by this call
  bool diverged = false;                 // a NaN/Inf cost stopped training
  bool early_stopped = false;
  bool plateau = false;                  // the cost sat at log 2
  double best_dev_cost = std::numeric_limits<double>::quiet_NaN();
  std::string message;                   // why training stopped early, if it did
};

// Trains `model` on `train` (labels as rows of Y, or integer labels that
// become one-hot columns for a softmax output). With `dev` and
// options.patience > 0, the dev cost is checked every epoch (every
// print_every iterations with --iters) and the best parameters are kept. A
// run that diverges keeps the parameters of the last finite cost.
FitResult fit(models::Model& model, const io::Dataset& train, const io::Dataset* dev,
              const FitOptions& options);

struct Evaluation {
  double cost = 0;      // the model's evaluation cost (cross-entropy without L2)
  double accuracy = 0;  // fraction in [0, 1] (binary and categorical tasks)
  double r2 = 0;        // coefficient of determination (regression)
  std::int64_t samples = 0;
  models::Task task = models::Task::binary;
};

// The model's outputs for new data, in inference mode (no dropout), through
// serve::InferencePlan (forward nodes only; see serve/inference_plan.hpp):
// the plan is made once, at construction, and the parameters are copied
// into it, so later changes to the model are not seen. The span overloads
// take and return the model's dtype with no copy and allocate nothing after
// the first call; one Predictor serves one thread at a time (for several
// threads, one serve::Context each on one shared serve::InferencePlan).
class Predictor {
 public:
  // `capacity`: the most samples io::Matrix calls convert and run at once.
  explicit Predictor(const models::Model& model, std::int64_t capacity = 1024);
  // X: raw features (n_x x m); the model's normalization is applied here.
  // Returns the outputs stacked by rows: (units of every output x m).
  io::Matrix predict(const io::Matrix& X);
  // x, y in `layout` (rows: x (batch x n_x), y (batch x n_out), as ONNX;
  // columns: the notes' (n_x x batch) and (n_out x batch)).
  void predict(std::span<const float> x, std::span<float> y, serve::Layout layout = serve::Layout::rows);
  void predict(std::span<const double> x, std::span<double> y, serve::Layout layout = serve::Layout::rows);
  const serve::InferencePlan& plan() const { return *plan_; }
  const serve::Context& context() const { return ctx_; }

 private:
  std::unique_ptr<serve::InferencePlan> plan_;  // at a fixed address: ctx_ points to it
  serve::Context ctx_;
  std::int64_t capacity_;
  runtime::Tensor x_, y_;  // one chunk of an io::Matrix call, in the model's dtype
};

io::Matrix predict(const models::Model& model, const io::Matrix& X);
// Cost and metric on a data set (raw features and labels, as fit takes them).
// Over `comm` with more than one process (as FitOptions::comm: nullptr is
// this process alone, under mpirun too), each holds its shard (or cuts its
// block of a whole set) and every process gets the whole set's figures.
Evaluation evaluate(models::Model& model, const io::Dataset& data, dist::Comm* comm = nullptr);

// Fraction of columns predicted right: a > 0.5 for one sigmoid unit, the
// argmax otherwise; Y holds labels (1 x m) or one-hot columns.
double accuracy(const io::Matrix& AL, const io::Matrix& Y);
// 1 - sum (y - a)^2 / sum (y - mean(y))^2 over every element.
double r_squared(const io::Matrix& A, const io::Matrix& Y);

}  // namespace dagrad::train
