// Progress of a data-parallel run's bucket sums during long GEMMs. A
// started bucket moves only inside MPI calls (dist/comm.hpp); the executor
// tests the buckets between kernels, but a backward GEMM of a wide layer
// (W-wide's dA1 = W2^T dZ2, dW1 = dZ1 A0^T) runs for milliseconds without
// one. While a GemmProgress is alive on a thread, a product that thread
// runs alone and that is cut into panels or chunks of K
// (ops/gemm_planner.hpp) calls progress() between them. The parts, and so
// the bits, are the same.
#pragma once

#include "dagrad/ops/op.hpp"

namespace dagrad::ops {

class GemmProgress {
 public:
  explicit GemmProgress(Collectives* collectives);  // null: nothing to move
  ~GemmProgress();
  GemmProgress(const GemmProgress&) = delete;
  GemmProgress& operator=(const GemmProgress&) = delete;

  // This thread's, or null.
  static Collectives* current();

 private:
  Collectives* saved_;
};

}  // namespace dagrad::ops
