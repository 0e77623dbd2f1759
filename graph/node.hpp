// A node of the graph IR: one op applied to earlier nodes, with its inferred
// shape, its dtype, an optional name from the notes (Z1, A1, dW1) and the role
// it plays (forward computation or derived backward computation).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dagrad/graph/types.hpp"

namespace dagrad {

namespace ops {
struct FusedNet;  // ops/fused_net.hpp: what a fused_net node computes
struct UpdateRule;  // ops/update_rule.hpp: an optimizer's element rule
}

using NodeId = std::uint32_t;

// Every op dagrad knows. The order is the index into the registry's table in
// ops/registry.cpp, where a static_assert checks the count.
enum class OpKind : std::uint8_t {
  input,           // fed at run time (X, Y)
  param,           // trained parameter (W1, b1)
  state,           // optimizer state kept between runs (v_dW1, s_dW1, t)
  constant,        // every element = attrs.value
  matmul,          // scale * op(a) op(b), op = transpose when trans_a/trans_b
  add,             // broadcasting a + b
  sub,             // broadcasting a - b
  mul,             // broadcasting element-wise a * b
  div,             // broadcasting element-wise a / b
  neg,             // -x
  affine,          // scale * x + offset
  exp,
  log,
  square,
  sqrt,
  pow,             // a^b, broadcasting (the bias correction beta1^t)
  sigmoid,
  tanh,
  relu,
  leaky_relu,      // x > 0 ? x : slope * x
  step,            // x > 0 ? 1 : slope   (the derivative mask of relu / leaky_relu)
  sum,             // scale * sum over axis (-1 all, 0 rows, 1 columns)
  broadcast,       // x (n,1), (1,m) or (1,1) repeated to the node's shape
  transpose,
  bce,             // -(1/m) sum(y log a + (1-y) log(1-a))
  bce_logits,      // the same cost from z with a = sigmoid(z), in a stable form
  softmax,         // column-wise softmax over the rows
  softmax_ce,      // -(1/m) sum(y log softmax(z)), stable, from the logits z
  categorical_ce,  // -(1/m) sum(y log a)
  mse,             // (1/(2m)) sum((a - y)^2)
  l2_penalty,      // lambda/(2m) * sum_l ||W[l]||_F^2 over all inputs
  dropout_mask,    // D = (U < keep_prob), U from a counter-based RNG
  dropout,         // x * D / keep_prob while training, x in inference
  assign,          // target := value after the run's other readers of target
  // Data-parallel sums (dist/data_parallel.hpp): made by the pass that
  // distributes a training step, never by the DSL or autodiff.
  allreduce_start,  // packs its operands into one bucket, starts summing it over the processes
  allreduce_wait,   // the bucket summed over every process (waits for the sum)
  allreduce_part,   // one operand's values in a summed bucket (attrs.count: the offset)
  // Fused ops: made only by passes::optimize, never by the DSL or autodiff,
  // so they have no gradient rule (grad = nullptr).
  matmul_bias,     // scale * op(a) op(b) + broadcast(c)   (one GEMM, beta = 1)
  step_mul,        // g * (x > 0 ? 1 : slope)              relu / leaky_relu backward
  tanh_grad_mul,   // g * (1 - y^2)                        tanh backward from y
  sigmoid_grad_mul,  // g * y * (1 - y)                    sigmoid backward from y
  update,          // an optimizer's step of one parameter, in place: W and its
                   // moments by the optimizer's element rule (attrs.rule)
  fused_net,       // a narrow network's whole training step (passes::fuse_nets):
                   // forward, cost, backward and update; value J, W and state in place
  count_           // number of ops; not an op
};

constexpr int op_count = static_cast<int>(OpKind::count_);

// A scalar factor value * m^m_pow, with m the sample count bound when a plan
// runs: the notes' 1/m is Scale{1, -1} (per_m), lambda/m is Scale{lambda, -1}.
// Factors with m stay symbolic in the graph and are resolved by the kernels.
struct Scale {
  double value = 1.0;
  int m_pow = 0;

  constexpr Scale(double v = 1.0, int p = 0) : value(v), m_pow(p) {}  // NOLINT: a number is a Scale

  constexpr bool is_one() const { return value == 1.0 && m_pow == 0; }
  // value * m^m_pow. NOTE: a negative power divides (value / m rather than
  // value * (1/m)), so lambda/m has the bits of the division the notes write.
  double at(std::int64_t m) const {
    double v = value;
    for (int k = 0; k < m_pow; ++k) v *= static_cast<double>(m);
    for (int k = 0; k > m_pow; --k) v /= static_cast<double>(m);
    return v;
  }
  friend constexpr Scale operator*(Scale a, Scale b) {
    return {a.value * b.value, a.m_pow + b.m_pow};
  }
  friend constexpr Scale operator/(Scale a, Scale b) {
    return {a.value / b.value, a.m_pow - b.m_pow};
  }
  friend constexpr bool operator==(const Scale&, const Scale&) = default;
};

inline constexpr Scale per_m{1.0, -1};  // 1/m

// Op attributes. Each op reads the fields it needs; the others stay default so
// that two nodes with the same op, inputs and attributes are the same value.
struct Attrs {
  double value = 0.0;      // constant
  double scale = 1.0;      // matmul alpha, affine, sum (1/n for a mean), l2 lambda
  std::int8_t m_pow = 0;   // scale is multiplied by m^m_pow at run time (1/m: -1)
  double offset = 0.0;     // affine
  double slope = 0.01;     // leaky_relu, step
  double keep_prob = 1.0;  // dropout_mask, dropout
  std::int64_t count = 0;  // l2_penalty: m, or m_dim for the bound sample count
  std::uint64_t seed = 0;  // dropout_mask
  std::int8_t axis = -1;   // sum: -1 all elements, 0 over rows, 1 over columns
  bool keepdims = true;    // sum
  bool trans_a = false;    // matmul
  bool trans_b = false;    // matmul
  double beta1 = 0.9;      // an optimizer's assign and update nodes
  double beta2 = 0.999;    // "
  double epsilon = 1e-8;   // "
  double weight_decay = 0.0;  // " (decoupled weight decay)
  // update: the optimizer's element rule (static, one per optimizer).
  const ops::UpdateRule* rule = nullptr;
  // fused_net: its program and the nodes it replaced (shared, immutable).
  std::shared_ptr<const ops::FusedNet> net;

  Scale scale_factor() const { return {scale, m_pow}; }
  void set_scale(Scale s) {
    scale = s.value;
    m_pow = static_cast<std::int8_t>(s.m_pow);
  }
  friend bool operator==(const Attrs&, const Attrs&) = default;
};

// Where a node came from. Used by the Graphviz export and `explain`.
// `update` nodes are an optimizer's rule (train::minimize): W := W - alpha dW.
enum class Role : std::uint8_t { input, param, constant, forward, backward, state, update };

struct Node {
  OpKind op = OpKind::constant;
  std::vector<NodeId> inputs;
  Shape shape;
  DType dtype = DType::f64;
  Attrs attrs;
  std::string name;  // "" when the user gave none
  Role role = Role::forward;
  int layer = 0;     // the notes' layer l, 0 when unknown
};

}  // namespace dagrad
