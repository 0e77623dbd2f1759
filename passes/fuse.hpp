// Fusion passes: several nodes become one op that makes one pass over memory.
//   fuse_bias:        add(matmul(a, b), c) -> matmul_bias(a, b, c): the GEMM
//                     accumulates into the broadcast bias (beta = 1).
//   fuse_elementwise: the activations' backward steps, each a chain of 2-4
//                     element-wise nodes, become one loop:
//                       mul(g, step(z, s))           -> step_mul(g, z)
//                       mul(g, 1 - square(a))        -> tanh_grad_mul(g, a)
//                       mul(g, mul(a, 1 - a))        -> sigmoid_grad_mul(g, a)
//   fuse_updates:     an optimizer's update of one parameter, as
//                     train::minimize builds it, becomes one in-place loop:
//                       assign(W, W - alpha dW)                -> sgd_update
//                       ... v = assign(v, b1 v + (1-b1) dW)    -> momentum_update
//                       ... s = assign(s, b2 s + (1-b2) dW^2)  -> rmsprop_update
//                       ... both, with bias correction         -> adam_update
// A node is absorbed only when the fused node is its one reader.
#pragma once

#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

Rewritten fuse_bias(const Graph& g, std::span<const NodeId> outputs);
Rewritten fuse_elementwise(const Graph& g, std::span<const NodeId> outputs);
Rewritten fuse_updates(const Graph& g, std::span<const NodeId> outputs);
// An optimizer's update of one parameter as train::minimize builds it
// (assign(W, W - step) and its moments' assigns, each inner node read once
// per `uses`), as the fused update op and its operands in the old graph:
// W, the moments, dW, alpha and Adam's c1, c2. nullopt for anything else.
struct UpdateMatch {
  OpKind op;  // sgd_update, momentum_update, rmsprop_update or adam_update
  std::vector<NodeId> operands;
  Attrs attrs;  // beta1, beta2, epsilon
};
std::optional<UpdateMatch> match_update(const Graph& g, const std::vector<int>& uses, NodeId assign);

// The passes' rules, for optimize() to apply in a single rebuild.
std::optional<NodeId> fuse_bias_rule(RebuildContext& c, NodeId old);
std::optional<NodeId> fuse_elementwise_rule(RebuildContext& c, NodeId old);
std::optional<NodeId> fuse_update_rule(RebuildContext& c, NodeId old);

}  // namespace dagrad::passes
