// dagrad bench's GEMM-only runs: the GEMMs of a step replayed on buffers of
// their own, each on its planned library, and the 2-core check.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/runtime/tensor.hpp"

namespace dagrad::cli {

// One GEMM of the plan, replayed on buffers of its own.
struct GemmCall {
  Shape a, b, c;
  bool ta, tb;
  double alpha, beta;
  runtime::Tensor A, B, C;
};

// The GEMMs of a step of m samples.
std::vector<GemmCall> gemm_calls(const Graph& g, std::span<const NodeId> schedule, std::int64_t m);
// Their floating-point operations.
double gemm_flops(const std::vector<GemmCall>& calls);

template <class T>
void run_gemms(std::vector<GemmCall>& calls) {
  for (GemmCall& c : calls)
    ops::blas_gemm<T>({c.A.raw(), c.a}, c.ta, {c.B.raw(), c.b}, c.tb, T(c.alpha), T(c.beta),
                 {c.C.raw(), c.c});
}

// Seconds per 512^3 sgemm on `threads` threads (OpenBLAS always).
double gemm_probe(int threads);

}  // namespace dagrad::cli
