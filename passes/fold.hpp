// Folding passes: each removes nodes by moving their work into a neighbour.
//   fold_constants:  an element-wise op, sum, broadcast or transpose of
//                    constants is a constant: c = f(c1, c2), sum = s*n*c.
//   fold_transposes: matmul(transpose(a), b) -> matmul with trans_a flipped
//                    (and for b); transpose(transpose(x)) -> x.
//   fold_scales:     affine(matmul(a, b, alpha), s, 0) -> matmul(a, b, alpha s)
//                    and neg(matmul) -> matmul(-alpha), when the matmul has
//                    no other reader: dW = 1/m dZ A^T becomes one GEMM.
#pragma once

#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

Rewritten fold_constants(const Graph& g, std::span<const NodeId> outputs);
// The passes' rules, for optimize() to apply in a single rebuild.
std::optional<NodeId> fold_constant_rule(RebuildContext& c, NodeId old);
std::optional<NodeId> fold_transpose_rule(RebuildContext& c, NodeId old);
std::optional<NodeId> fold_scale_rule(RebuildContext& c, NodeId old);
Rewritten fold_transposes(const Graph& g, std::span<const NodeId> outputs);
Rewritten fold_scales(const Graph& g, std::span<const NodeId> outputs);

}  // namespace dagrad::passes
