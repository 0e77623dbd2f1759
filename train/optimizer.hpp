// Parameter updates, run outside the graph over the parameter Tensors with
// the gradients the executor computed (dW = dJ/dW, t = 1, 2, ... updates):
//   gd        W -= lr dW
//   momentum  v = beta1 v + (1 - beta1) dW;                 W -= lr v
//   rmsprop   s = beta2 s + (1 - beta2) dW^2;               W -= lr dW / (sqrt(s) + eps)
//   adam      v, s as above; v^ = v / (1 - beta1^t), s^ = s / (1 - beta2^t);
//             W -= lr v^ / (sqrt(s^) + eps)                 (the notes' bias correction)
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dagrad/ops/op.hpp"
#include "dagrad/runtime/tensor.hpp"

namespace dagrad::train {

enum class OptimizerKind { gd, momentum, rmsprop, adam };

OptimizerKind parse_optimizer(std::string_view s);  // InputError on unknown names
std::string_view name_of(OptimizerKind k);

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::gd;
  double beta1 = 0.9;     // momentum / Adam first moment
  double beta2 = 0.999;   // RMSprop / Adam second moment
  double epsilon = 1e-8;
  void validate() const;  // InputError naming the flag
};

// Holds v and s (zeros, shaped like the parameters), allocated once here;
// step() never allocates.
class Optimizer {
 public:
  Optimizer(const OptimizerConfig& config, std::span<const runtime::Tensor> params);

  // One update of every parameter with its gradient grads[k] (same shape
  // and dtype as params[k]) and learning rate lr.
  void step(std::span<runtime::Tensor> params, std::span<const ops::Buffer> grads, double lr);

  std::int64_t updates() const { return t_; }

 private:
  OptimizerConfig config_;
  std::vector<runtime::Tensor> v_, s_;
  std::int64_t t_ = 0;
};

}  // namespace dagrad::train
