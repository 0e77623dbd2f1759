// A node of the graph IR: one op applied to earlier nodes, with its inferred
// shape, its dtype, an optional name from the notes (Z1, A1, dW1) and the role
// it plays (forward computation or derived backward computation).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dagrad/graph/attrs.hpp"
#include "dagrad/graph/types.hpp"

namespace dagrad {

using NodeId = std::uint32_t;

// Every op dagrad knows. The order is the index into the registry's table in
// ops/registry.cpp, where a static_assert checks the count.
enum class OpKind : std::uint8_t {
  input,           // fed at run time (X, Y)
  param,           // trained parameter (W1, b1)
  state,           // optimizer state kept between runs (v_dW1, s_dW1, t)
  constant,        // every element = ConstantAttrs::value
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
  allreduce_part,   // one operand's values in a summed bucket (BucketAttrs::offset)
  // Fused ops: made only by passes::optimize, never by the DSL or autodiff,
  // so they have no gradient rule (grad = nullptr).
  matmul_bias,     // scale * op(a) op(b) + broadcast(c)   (one GEMM, beta = 1)
  step_mul,        // g * (x > 0 ? 1 : slope)              relu / leaky_relu backward
  tanh_grad_mul,   // g * (1 - y^2)                        tanh backward from y
  sigmoid_grad_mul,  // g * y * (1 - y)                    sigmoid backward from y
  update,          // an optimizer's step of one parameter, in place: W and its
                   // moments by the optimizer's element rule (UpdateAttrs::rule)
  fused_net,       // a narrow network's whole training step (passes::fuse_nets):
                   // forward, cost, backward and update; value J, W and state in place
  count_           // number of ops; not an op
};

constexpr int op_count = static_cast<int>(OpKind::count_);

// Where a node came from. Used by the Graphviz export and `explain`.
// `update` nodes are an optimizer's rule (train::minimize): W := W - alpha dW.
enum class Role : std::uint8_t { input, param, constant, forward, backward, state, update };

struct Node;
// Throws GraphError naming node n, whose attributes are read as kind `wanted`.
[[noreturn]] void throw_wrong_attrs(const Node& n, std::size_t wanted);

struct Node {
  OpKind op = OpKind::constant;
  std::vector<NodeId> inputs;
  Shape shape;
  DType dtype = DType::f64;
  Attrs attrs;
  std::string name;  // "" when the user gave none
  Role role = Role::forward;
  int layer = 0;     // the notes' layer l, 0 when unknown

  // The node's attributes as its op's type T; GraphError naming the node
  // when it carries another kind.
  template <class T> const T& attr() const {
    if (!attrs.is<T>()) throw_wrong_attrs(*this, attrs_index<T>());
    return attrs.get<T>();
  }
};

}  // namespace dagrad
