// What an optimizer's fused update runs: its element rule, applied to a
// span of one parameter W, its moments and its gradient dW. Each optimizer
// (optim/sgd.cpp ... optim/adamw.cpp) defines its rule beside the update
// equations train::minimize appends to the graph, in the same arithmetic and
// order as those nodes, so that the fused loop gives their bits. Two ops run
// the rules: `update` (ops/update.cpp), one parameter's step as one loop, and
// the narrow-net kernel (ops/fused_net_kernel.cpp), every parameter's step
// after its sweep. Neither names an optimizer.
#pragma once

#include <cstdint>
#include <string_view>

namespace dagrad::ops {

// The tensors of one parameter's step, each of n elements: W and the
// moments are updated in place; m1 is null for an optimizer with fewer
// than two moments, m0 for one with none.
template <class T>
struct UpdateSpan {
  T* w;
  T* m0;
  T* m1;
  const T* g;  // dW
  std::int64_t n;
};

// The step's scalars: alpha and the optimizer's per-step scalars (Adam's
// c1 = 1 - beta1^t, c2 = 1 - beta2^t; computed once per step by graph nodes),
// and its hyper-parameters (the update node's attributes).
template <class T>
struct UpdateCoeffs {
  T alpha;
  T step[3];
  T beta1, beta2, epsilon;
};

inline constexpr int max_step_scalars = 3;

struct UpdateRule {
  std::string_view name;  // the optimizer's name ("adam")
  int moments;            // state tensors per parameter: 0, 1 or 2
  int step_scalars;       // (1x1) operands after alpha
  void (*f32)(const UpdateSpan<float>&, const UpdateCoeffs<float>&);
  void (*f64)(const UpdateSpan<double>&, const UpdateCoeffs<double>&);
};

// The rule of a node's element type.
template <class T>
void apply(const UpdateRule& r, const UpdateSpan<T>& s, const UpdateCoeffs<T>& k) {
  if constexpr (sizeof(T) == sizeof(float)) r.f32(s, k);
  else r.f64(s, k);
}

}  // namespace dagrad::ops
