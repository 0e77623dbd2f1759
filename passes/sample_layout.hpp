// Sample inputs stored sample by sample: a data input X (n x m) that only
// K-heavy products read becomes an input Xs (m x n), X's transpose, and each
// product reads it with its transpose flag turned:
//   Z1  = W1 X      ->  W1 Xs^T
//   dW1 = dZ1 X^T   ->  dZ1 Xs
// The values are the same (a transposed operand is a GEMM flag); what
// changes is which dimension is contiguous. With X by sample both products
// read n-long contiguous rows of X, where with X by feature Z1 reads
// m-long rows and dW1 packs X^T column by column. For the notes' cat
// network (n = 12288, 20 units, m = 209, f32, 1 thread) the two products
// took 4.2 ms by sample against 7.3 ms by feature (docs/performance.md).
// A mini-batch is then whole rows of the data set (train::Feeder), and the
// whole set binds in place.
//
// The rule, from single-threaded timings on AMD EPYC (Zen 3) of
// 20 x m x 12288, 64 x m x 12288, 20 x m x 4096, 1024 x 256 x 784 and
// 128 x 64 x 784 in both layouts:
//   - X has at least min_features rows (K-heavy: 12288 won, 4096 tied);
//   - every node that reads X is a matmul whose second operand it is, with
//     at most max_units rows (64 units tied);
//   - the capacity m is at least min_samples (at m = 64 by feature won in
//     the quietest run, from 96 to 512 by sample won; a data-parallel run
//     of the cat network holds 104 or 105 samples a process).
// Otherwise X stays as it is.
//
// The contract with whoever feeds the graph: an input whose compiled shape
// is (m x n) where the model declares (n x m) is stored by sample
// (train::Session::by_sample).
#pragma once

#include <cstdint>
#include <optional>

#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

inline constexpr std::int64_t by_sample_min_features = 8192;
inline constexpr std::int64_t by_sample_max_units = 32;
inline constexpr std::int64_t by_sample_min_samples = 96;

// nullopt when no input qualifies (the graph is then not copied).
std::optional<Rewritten> store_samples_by_row(const Graph& g, std::span<const NodeId> outputs,
                                              std::int64_t capacity);

}  // namespace dagrad::passes
