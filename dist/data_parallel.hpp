// The pass that makes a training step data-parallel. Each process runs the
// step on its part of the global batch (every 1/m dividing by the global
// batch's count, RunOptions::batch), so its gradient is its part of the
// global one, and
//   dW = sum over processes p of dW_p
// is what one process computes on the whole batch, up to the order of the
// additions. The pass adds that sum as nodes, between the backward pass and
// the updates:
//   B1 = allreduce_start(dW3, db3, ...)   as soon as dW[L] and its bucket-mates exist
//   ...                                   the rest of the backward pass runs meanwhile
//   S1 = allreduce_wait(B1)               as late as the updates that read it allow
//   dW3_sum = allreduce_part(S1) ...      what the updates (and J's readers) read
// Gradients are packed into buckets of at most `bucket_mb` MB in the order
// the backward pass produces them, dW[L] first, as PyTorch DDP's are.
//
// A term that does not depend on the samples (an L2 penalty lambda/(2m)
// sum ||W||^2 and its gradient lambda/m W) is the same on every process and
// must be counted once: a summed value that is a sum or difference of such
// a term and a per-sample term is split, the per-sample part is summed over
// processes and the other added after, as one process adds it:
//   dW = allreduce(1/m dZ A^T) + lambda/m W,   J = allreduce(cost) + L2.
// A model whose cost is not a sum over its samples (plus such terms) cannot
// be trained this way; the pass cannot tell, see README "Data-parallel".
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "dagrad/passes/optimize.hpp"
#include "dagrad/passes/rebuild.hpp"

namespace dagrad::dist {

struct DataParallelOptions {
  double bucket_mb = 25.0;  // PyTorch DDP's default bucket_cap_mb
};

struct DataParallelGraph {
  passes::Rewritten rewritten;  // map: old node -> new (a summed node -> its sum)
  int buckets = 0;
};

// Rewrites `outputs` of `g` so that every node of `sums` (the gradients the
// updates read, the cost J) is summed over the processes; every reader of
// one, and an output that is one, gets the sum. GraphError when a node of
// `sums` depends on another one or holds the sample count m; InputError for
// a `bucket_mb` outside (0, 1e6].
DataParallelGraph data_parallel(const Graph& g, std::span<const NodeId> outputs,
                                std::span<const NodeId> sums, const DataParallelOptions& options);

// The data-parallel step as train::Session runs it and `dagrad plan
// --data-parallel` prints it, then passes::optimize. A narrow network's
// training step (passes::fuse_nets, when `passes` fuse nets) becomes the
// fused kernel's two stages with its gradients G summed between them, one
// bucket of every gradient and the cost:
//   J_gradients = fused_net[gradients](...)   allreduce of J_gradients
//   J = fused_net[update](..., J_gradients_sum, ...)
// Any other step gets data_parallel(g, outputs, sums, options).
passes::Rewritten data_parallel_step(const Graph& g, std::span<const NodeId> outputs,
                                     std::span<const NodeId> sums, const DataParallelOptions& options,
                                     const passes::PassOptions& passes);

// Where each bucket of a scheduled data-parallel graph starts and is waited
// for, two lines per bucket, for `dagrad plan`:
//   bucket 1 (4100 bytes): dW3, db3, J
//     starts at step 41 (after db3), waited for at step 60, first read at step 61 by ...
//     overlaps 2 GEMMs (537 M multiply-adds at m = 256): dA1, dW1
// (the GEMMs its sum can hide behind, at m samples; none: the sum is all waited for).
std::string describe_buckets(const Graph& g, std::span<const NodeId> schedule, std::int64_t m);

}  // namespace dagrad::dist
