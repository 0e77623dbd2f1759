// Narrow-net fusion: a training step whose network is narrow becomes one
// fused_net node (ops/fused_net.hpp), whose kernel runs forward, cost,
// backward and update over tiles of samples without writing Z, A or dZ to
// memory.
//
// The pass reads the step from the graph's ops; it fuses when
//   - an output is the cost J = C (+ lambda/(2m) sum ||W[l]||^2) with C a
//     binary cross-entropy from logits, a softmax cross-entropy or a squared
//     error of Z[L] against the input Y;
//   - Z[l] = W[l] A[l-1] + b[l] with A[0] the input X and, below the output,
//     A[l] = g(Z[l]), g relu, leaky relu, tanh or sigmoid, optionally
//     followed by inverted dropout on a dropout_mask;
//   - every width n[0..L] is at most ops::net_max_width and L at most
//     ops::net_max_depth;
//   - every W[l] and b[l] has among the outputs one update as
//     train::minimize builds it, all with the same optimizer, the same alpha
//     (and Adam's bias corrections), and each update's dW is exactly the
//     graph's dJ/dW (re-derived in a copy: the graph's hash-consing returns
//     the very nodes when they are the derivative);
//   - no other output needs any of the nodes it replaces.
// Anything else is left as it is. The scalars the step reads (alpha, or
// alpha0 / (1 + decay epoch); Adam's t, c1 and c2) stay unfused nodes that
// run before it.
//
// In the result, J maps to the fused node (its value) and each parameter's
// update to the parameter itself, which the node updates in place;
// nullopt when nothing was fused.
//
// With `split` (a data-parallel step) the step is two fused_net nodes
// (ops/fused_net.hpp, FusedStage): J_gradients = G, the gradients and the
// cost divided by the global batch, and J = the update, which reads G; the
// caller sums G over the processes between them (dist::data_parallel_step).
#pragma once

#include <optional>

#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

std::optional<Rewritten> fuse_nets(const Graph& g, std::span<const NodeId> outputs, bool split = false);

}  // namespace dagrad::passes
