// Loop skeletons shared by the element-wise kernels. Each inner loop has
// compile-time strides (0 for a broadcast operand, 1 otherwise) so that the
// compiler vectorizes it; the per-element function is a lambda.
#pragma once

#include <cstdint>

#include "ops/op.hpp"

namespace dagrad::ops {

// out[i] = f(x[i]) over the whole matrix.
// NOTE: the memory planner runs element-wise nodes in place (y == x). GCC's
// vectorizer guards a loop over two pointers with an overlap check that
// equal pointers fail, so the in-place case gets its own one-pointer loop;
// otherwise it would run scalar, with a mispredicted branch per element in
// relu-like selects.
template <class T, class F>
void map_unary(const KernelCall& c, F f) {
  const T* x = c.in[0].as<T>();
  T* y = c.out.as<T>();
  const std::int64_t n = c.out.shape.size();
  if (static_cast<const T*>(y) == x) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = f(y[i]);
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

namespace detail {
template <class T, int SA, int SB, class F>
inline void row_loop(const T* a, const T* b, T* y, std::int64_t n, F f) {
  // In place over a full-width operand: one pointer fewer (see map_unary).
  if (SA == 1 && static_cast<const T*>(y) == a) {
    for (std::int64_t j = 0; j < n; ++j) y[j] = f(y[j], b[j * SB]);
  } else if (SB == 1 && static_cast<const T*>(y) == b) {
    for (std::int64_t j = 0; j < n; ++j) y[j] = f(a[j * SA], y[j]);
  } else {
    for (std::int64_t j = 0; j < n; ++j) y[j] = f(a[j * SA], b[j * SB]);
  }
}
}  // namespace detail

// out(r, c) = f(a(r', c'), b(r'', c'')) where an operand with one row or one
// column is repeated across the output (numpy broadcasting in 2-D).
template <class T, class F>
void map_binary(const Buffer& A, const Buffer& B, const Buffer& Y, F f) {
  const T* a = A.as<T>();
  const T* b = B.as<T>();
  T* y = Y.as<T>();
  const std::int64_t rows = Y.shape.rows, cols = Y.shape.cols;
  const bool ra = A.shape.rows > 1, rb = B.shape.rows > 1;
  const bool ca = A.shape.cols > 1, cb = B.shape.cols > 1;
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* pa = a + (ra ? r * A.shape.cols : 0);
    const T* pb = b + (rb ? r * B.shape.cols : 0);
    T* py = y + r * cols;
    if (ca && cb) detail::row_loop<T, 1, 1>(pa, pb, py, cols, f);
    else if (ca) detail::row_loop<T, 1, 0>(pa, pb, py, cols, f);
    else if (cb) detail::row_loop<T, 0, 1>(pa, pb, py, cols, f);
    else detail::row_loop<T, 0, 0>(pa, pb, py, cols, f);
  }
}

template <class T, class F>
void map_binary(const KernelCall& c, F f) {
  map_binary<T>(c.in[0], c.in[1], c.out, f);
}

// C = alpha op(A) op(B) + beta C (row-major; the transposes are flags, beta
// is 0 or 1). Tiny products (M N K <= small_gemm_limit) run in a plain loop,
// since OpenBLAS's per-call setup costs more than their arithmetic; the
// rest go to OpenBLAS. Defined in ops/matmul.cpp for float and double.
inline constexpr std::int64_t small_gemm_limit = 16384;
template <class T>
void gemm(const Buffer& A, bool trans_a, const Buffer& B, bool trans_b, T alpha, T beta,
          const Buffer& C);
// The same product always through cblas_?gemm (the GEMM-only baseline).
template <class T>
void blas_gemm(const Buffer& A, bool trans_a, const Buffer& B, bool trans_b, T alpha, T beta,
               const Buffer& C);

// The float and double instantiations of a kernel template, for an OpDef.
#define DAGRAD_KERNELS(fn) &fn<float>, &fn<double>

}  // namespace dagrad::ops
