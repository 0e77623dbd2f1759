// The optimization pipeline: narrow-net fusion (passes/fuse_net.hpp: a
// narrow network's whole training step as one node), then constant folding, transpose folding, scale
// folding, bias fusion, element-wise fusion, then CSE and compaction. Run it
// after gradients(): fused ops have no gradient rule. Results equal the
// unoptimized graph's within floating-point rounding (alpha s folded into a
// GEMM rounds once instead of twice). Names, roles and layers survive on the
// nodes that survive; a fused node carries the name of the node it replaces
// (Z1 for matmul_bias, dZ1 for step_mul, dW1 for a scaled GEMM).
#pragma once

#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

struct PassOptions {
  bool fold_constants = true;
  bool fold_transposes = true;
  bool fold_scales = true;
  bool fuse_bias = true;
  bool fuse_elementwise = true;
  bool fuse_updates = true;
  bool fuse_nets = true;

  static PassOptions none() { return {false, false, false, false, false, false, false}; }
};

Rewritten optimize(const Graph& g, std::span<const NodeId> outputs,
                   const PassOptions& options = {});

}  // namespace dagrad::passes
