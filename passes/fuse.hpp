// Fusion passes: several nodes become one op that makes one pass over memory.
//   fuse_bias:        add(matmul(a, b), c) -> matmul_bias(a, b, c): the GEMM
//                     accumulates into the broadcast bias (beta = 1).
//   fuse_elementwise: the activations' backward steps, each a chain of 2-4
//                     element-wise nodes, become one loop:
//                       mul(g, step(z, s))           -> step_mul(g, z)
//                       mul(g, 1 - square(a))        -> tanh_grad_mul(g, a)
//                       mul(g, mul(a, 1 - a))        -> sigmoid_grad_mul(g, a)
//   fuse_updates:     an optimizer's update of one parameter, as
//                     train::minimize builds it (assign(W, W - alpha dW) for
//                     gd), becomes one in-place `update` node that runs the
//                     optimizer's element rule; optim::match_update finds
//                     which optimizer's equations the nodes are.
// A node is absorbed only when the fused node is its one reader.
#pragma once

#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

Rewritten fuse_bias(const Graph& g, std::span<const NodeId> outputs);
Rewritten fuse_elementwise(const Graph& g, std::span<const NodeId> outputs);
Rewritten fuse_updates(const Graph& g, std::span<const NodeId> outputs);
// The passes' rules, for optimize() to apply in a single rebuild.
std::optional<NodeId> fuse_bias_rule(RebuildContext& c, NodeId old);
std::optional<NodeId> fuse_elementwise_rule(RebuildContext& c, NodeId old);
std::optional<NodeId> fuse_update_rule(RebuildContext& c, NodeId old);

}  // namespace dagrad::passes
