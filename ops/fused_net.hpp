// A narrow network's whole training step as one op. passes::fuse_nets
// (passes/fuse_net.hpp) reads a training graph's ops (the layers, their
// activations and dropout masks, the cost, the L2 penalty, the optimizer
// and its hyper-parameters), checks that the graph's gradients are the
// ones this program computes, and replaces forward, cost, backward and
// update by one fused_net node whose kernel sweeps over tiles of samples:
//
//   per tile of samples (in registers and L1, never written to the arena):
//     Z[l] = W[l] A[l-1] + b[l],  A[l] = g(Z[l]) (* D[l] / keep_prob)   l < L
//     Z[L] = W[L] A[L-1] + b[L];  cost terms and dZ[L] = A[L] - Y
//     dW[l] += dZ[l] A[l-1]^T,  db[l] += sum(dZ[l]),
//     dZ[l-1] = W[l]^T dZ[l] (* D[l-1] / keep_prob) * g'(Z[l-1])
//   then once:  dW = 1/m dW (+ lambda/m W),  db = 1/m db,  the optimizer's
//   update of every parameter and its moments in place;  value J.
//
// In a data-parallel step the node is split in two (FusedStage), so that
// the processes sum their gradients between the backward pass and the
// update, as the unfused step's allreduce nodes do (dist/data_parallel.hpp):
//   G = fused_net[gradients](W1, b1, ..., X, Y)      ((P + 1) x 1)
//       G = [1/m sum dW1, 1/m sum db1, ..., 1/m sum of the cost terms]
//       with m the global batch (batch_of), as every op divides
//   S = allreduce(G)                                 sum over the processes
//   J = fused_net[update](W1, b1, ..., moments, S, alpha, ...)
//       dW = S[dW] (+ lambda/m W), the optimizer's step;  J = S[J] (+ L2)
// The whole step computes G and then the update in one kernel, so the split
// step on one process gives the same bits.
//
// The unfused graph stays the reference (tests/passes/fuse_net_test.cpp);
// the node keeps what it replaced (FusedNet::replaced) for `dagrad plan`
// and `dagrad dot`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/ops/update_rule.hpp"

namespace dagrad::ops {

enum class NetActivation : std::uint8_t { relu, leaky_relu, tanh, sigmoid, identity };
enum class NetCost : std::uint8_t { bce_logits, softmax_ce, mse };

// The widest layer (inputs included) and the deepest network fused: a tile
// of samples of every layer then stays in L1 and L2, and each unit's loop
// over its inputs is short.
inline constexpr std::int64_t net_max_width = 32;
inline constexpr int net_max_depth = 8;

struct NetLayer {
  std::int64_t units = 0;                             // n[l]
  NetActivation activation = NetActivation::identity;  // identity for the output layer
  double slope = 0.01;                                // leaky_relu
  double keep_prob = 1.0;                             // inverted dropout after g; 1 = none
  std::uint64_t seed = 0;                             // the dropout mask's seed
};

struct FusedNet {
  std::int64_t inputs = 0;       // n[0]
  std::vector<NetLayer> layers;  // layers[l-1] is layer l
  NetCost cost = NetCost::bce_logits;
  double lambda = 0.0;           // L2: lambda/(2 count) sum_l ||W[l]||^2; 0 = none
  std::int64_t l2_count = m_dim;  // the penalty's m: m_dim for the bound sample count
  const UpdateRule* rule = nullptr;  // the optimizer's element rule (from its update nodes)
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  // What the node stands for: the replaced nodes as a graph of their own
  // (with the leaves and scalars they read), J first and then each
  // parameter's update among replaced_outputs, and how many nodes of the
  // training step it absorbed.
  Graph replaced;
  std::vector<NodeId> replaced_outputs;
  std::vector<bool> kept;  // per node of `replaced`: an operand, or computes one (alpha, c1, c2)
  std::size_t absorbed = 0;

  int depth() const { return static_cast<int>(layers.size()); }
  // Weights and biases of every layer: sum_l n[l] (n[l-1] + 1).
  std::int64_t parameters() const;
  // State tensors per parameter (the optimizer's: Adam's v and s).
  int moments() const { return rule->moments; }
  // Operands of the whole step: W1, b1, ..., WL, bL, then each parameter's
  // moments in the optimizer's order: the `written()` operands the kernel
  // overwrites. Then X, Y, alpha and the optimizer's step scalars (Adam's
  // c1 = 1 - beta1^t and c2 = 1 - beta2^t).
  // FusedStage::gradients: W1, b1, ..., WL, bL, X, Y (it overwrites none).
  // FusedStage::update: as the whole step with the summed G in place of X, Y.
  std::size_t written() const { return 2 * layers.size() * std::size_t(1 + moments()); }
  std::size_t written(FusedStage s) const { return s == FusedStage::gradients ? 0 : written(); }
  std::size_t x_slot(FusedStage s = FusedStage::step) const {
    return s == FusedStage::gradients ? 2 * layers.size() : written();
  }
  std::size_t g_slot() const { return written(); }  // FusedStage::update's G
  std::size_t alpha_slot(FusedStage s) const {
    return s == FusedStage::update ? g_slot() + 1 : x_slot(s) + 2;
  }
  std::size_t operand_count(FusedStage s = FusedStage::step) const {
    return s == FusedStage::gradients ? x_slot(s) + 2 : alpha_slot(s) + 1 + std::size_t(rule->step_scalars);
  }
  // "2-4-1, tanh, binary cross-entropy, gd" (and L2, dropout when present).
  std::string summary() const;
  // What it replaced, by op: "31 nodes: matmul x6, add x4, tanh, ...".
  std::string replaced_summary() const;
  // One line per replaced node, in schedule order: "  dZ2  sub  (1xm)".
  std::vector<std::string> replaced_lines() const;
};

// The narrow-net kernels' activation for an element-wise activation node:
// relu, leaky_relu (its slope also set), tanh or sigmoid. False, and
// nothing set, for any other op. The fusion pass and serving's narrow
// forward both read a node's activation through it.
bool read_activation(const Node& n, NetActivation& g, double& slope);

std::string_view name_of(NetActivation a);
std::string_view name_of(NetCost c);

// The step, for a fused_net node's kernel (ops/fused_net_kernel.cpp).
template <class T>
void fused_net_step(const KernelCall& c);
// Its workspace (OpDef::workspace) for m samples: each block's cost and
// gradient sums, summed in block order once every block is done.
std::size_t fused_net_workspace(const Graph& g, const Node& n, std::int64_t m);

}  // namespace dagrad::ops
