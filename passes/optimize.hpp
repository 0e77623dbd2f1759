// The optimization pipeline: narrow-net fusion (passes/fuse_net.hpp: a
// narrow network's whole training step as one node), the layout of K-heavy
// sample inputs (passes/sample_layout.hpp, when asked), then constant folding, transpose folding, scale
// folding, bias fusion, element-wise fusion, then CSE and compaction. Run it
// after gradients(): fused ops have no gradient rule. Results equal the
// unoptimized graph's within floating-point rounding (alpha s folded into a
// GEMM rounds once instead of twice). Names, roles and layers survive on the
// nodes that survive; a fused node carries the name of the node it replaces
// (Z1 for matmul_bias, dZ1 for step_mul, dW1 for a scaled GEMM).
#pragma once

#include <cstdint>

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
  // K-heavy sample inputs stored by sample where that pays
  // (passes/sample_layout.hpp), for a caller that feeds them so
  // (train::Session does) and says its batch capacity m: with capacity 0
  // every input stays as the model declares it.
  bool store_by_sample = true;
  std::int64_t capacity = 0;

  static PassOptions none() { return {false, false, false, false, false, false, false, false, 0}; }
};

Rewritten optimize(const Graph& g, std::span<const NodeId> outputs,
                   const PassOptions& options = {});

}  // namespace dagrad::passes
