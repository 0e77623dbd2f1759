// The training loop shared by `dagrad train` and the examples:
//   repeat: forward + backward (one Executor plan: J, AL, dW1, db1, ...)
//           then the optimizer's update over the parameter Tensors
// Full batch binds the data set directly; mini-batches (shuffled each epoch,
// last partial batch kept) are gathered into reused buffers, and the partial
// batch runs on a second plan bound to the same parameters. After the first
// iteration nothing is allocated.
#pragma once

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "dagrad/io/dataset.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/runtime/tensor.hpp"
#include "dagrad/train/init.hpp"
#include "dagrad/train/optimizer.hpp"

namespace dagrad::train {

struct FitOptions {
  Init init = Init::he;
  std::vector<runtime::Tensor> initial;  // start here (--init-from) instead of `init`
  std::uint64_t seed = 1;                // initialization and mini-batch shuffles
  DType dtype = DType::f64;
  double learning_rate = 0.0075;
  std::int64_t iterations = 0;           // number of updates, or
  std::int64_t epochs = 0;               // passes over the data: exactly one is > 0
  std::int64_t batch_size = 0;           // 0 or >= m: full batch
  OptimizerConfig optimizer;
  double decay_rate = 0.0;               // lr = lr0 / (1 + decay_rate * epoch)
  std::int64_t patience = 0;             // early stopping on the dev set; 0 = off
  std::int64_t print_every = 100;        // "Cost after ..." lines; 0 = none
  std::FILE* out = stdout;               // cost lines and warnings; nullptr = silent
  bool progress = true;                  // viz::ProgressBar when `out` is a terminal
  std::int64_t plateau_window = 100;     // warn after this many iterations at log 2
  bool check_numerics = false;           // NumericError at the first node giving NaN/Inf
};

struct FitResult {
  std::vector<runtime::Tensor> params;   // W1, b1, ..., the kept parameters
  std::vector<double> costs;             // costs[i]: J of iteration i, before update i
  std::vector<double> epoch_costs;       // per epoch: sample-weighted mean of batch J
  std::vector<double> dev_costs;         // per early-stopping check
  std::int64_t iterations = 0;           // updates applied
  std::int64_t epochs = 0;               // epochs completed
  bool diverged = false;                 // a NaN/Inf cost stopped training
  bool early_stopped = false;
  bool plateau = false;                  // the cost sat at log 2
  double best_dev_cost = std::numeric_limits<double>::quiet_NaN();
  std::string message;                   // why training stopped early, if it did
};

// Trains `spec` on `train` (Y as labels 1 x m, or one-hot for softmax). With
// `dev` and options.patience > 0, the dev cost is checked every epoch (every
// print_every iterations with --iters) and the best parameters are kept.
FitResult fit(const models::ModelSpec& spec, const io::Dataset& train, const io::Dataset* dev,
              const FitOptions& options);

struct Evaluation {
  double cost = 0;      // cross-entropy (without the L2 term)
  double accuracy = 0;  // fraction in [0, 1]
  std::int64_t samples = 0;
};

// AL for every column of X, in inference mode (no dropout).
io::Matrix predict(const models::ModelSpec& spec, std::span<const runtime::Tensor> params,
                   const io::Matrix& X);
// Fraction of columns predicted right: a > 0.5 for one sigmoid unit, the
// argmax otherwise; Y holds labels (1 x m) or one-hot columns.
double accuracy(const io::Matrix& AL, const io::Matrix& Y);
Evaluation evaluate(const models::ModelSpec& spec, std::span<const runtime::Tensor> params,
                    const io::Dataset& data);

}  // namespace dagrad::train
