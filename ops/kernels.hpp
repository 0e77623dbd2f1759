// Loop skeletons shared by the element-wise kernels. Each inner loop has
// compile-time strides (0 for a broadcast operand, 1 otherwise) so that the
// compiler vectorizes it; the per-element function is a lambda.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <type_traits>

#include "dagrad/ops/op.hpp"
#include "dagrad/ops/parallel.hpp"

namespace dagrad::ops {

// with_simd(f) runs f(), compiled twice: for baseline x86-64 (4 floats a
// vector) and, when the CPU has it, for AVX2 (8 floats). `flatten` inlines
// f and everything it calls into the AVX2 copy, so its loops are vectorized
// for AVX2 there. The build uses no FP contraction and AVX2 adds no new
// arithmetic, so both copies give bitwise the same results.
#if defined(__x86_64__) && defined(__GNUC__)
namespace detail {
inline const bool cpu_has_avx2 = __builtin_cpu_supports("avx2");
// Off: every loop runs its baseline copy (set_simd; tests compare the two).
inline bool use_avx2 = cpu_has_avx2;
template <class F>
__attribute__((target("avx2"), flatten)) void run_avx2(F& f) {
  f();
}
}  // namespace detail
template <class F>
inline void with_simd(F&& f) {
  if (detail::use_avx2) return detail::run_avx2(f);
  f();
}
#else
template <class F>
inline void with_simd(F&& f) {
  f();
}
#endif

// Switches the AVX2 code paths (the loops above and ops/vecmath's SLEEF
// functions) on, where the CPU has AVX2, or off: the baseline x86-64 code.
// Returns whether they were on. Not thread-safe: for tests and benchmarks.
bool set_simd(bool on);

// c ? a : b, computed on the bits. GCC 12 turns a select that feeds a
// multiply, such as g * (x > 0 ? 1 : slope), back into a branch ("control
// flow in loop"), which stops the vectorizer and mispredicts on every sign
// change of x; the bitwise form vectorizes. Both a and b are plain values,
// so nothing is computed speculatively.
template <class T>
inline T select(bool c, T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const Bits m = Bits(0) - static_cast<Bits>(c);
  return std::bit_cast<T>((std::bit_cast<Bits>(a) & m) | (std::bit_cast<Bits>(b) & ~m));
}

// out[i] = f(x[i]) over the whole matrix, split over run.threads threads
// when it is large (ops/parallel.hpp).
// NOTE: the memory planner runs element-wise nodes in place (y == x). GCC's
// vectorizer guards a loop over two pointers with an overlap check that
// equal pointers fail, so the in-place case gets its own one-pointer loop;
// otherwise it would run scalar, with a mispredicted branch per element in
// relu-like selects.
template <class T, class F>
void map_unary(const KernelCall& c, F f) {
  const T* x = c.in[0].as<T>();
  T* y = c.out.as<T>();
  parallel_for(c.run.threads, c.out.shape.size(), [&](std::int64_t b, std::int64_t e) {
    with_simd([&] {
      if (static_cast<const T*>(y) == x) {
        for (std::int64_t i = b; i < e; ++i) y[i] = f(y[i]);
        return;
      }
      for (std::int64_t i = b; i < e; ++i) y[i] = f(x[i]);
    });
  });
}

// out = fn(x) for a whole-array function fn(x, y, n) (the vectorized
// transcendentals of ops/vecmath.hpp), split like map_unary.
template <class T, class Fn>
void map_array(const KernelCall& c, Fn fn) {
  const T* x = c.in[0].as<T>();
  T* y = c.out.as<T>();
  parallel_for(c.run.threads, c.out.shape.size(),
               [&](std::int64_t b, std::int64_t e) { fn(x + b, y + b, e - b); });
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
// column is repeated across the output (numpy broadcasting in 2-D). A large
// output is split over `threads` threads by rows, or by columns when it has
// a single row.
template <class T, class F>
void map_binary(const Buffer& A, const Buffer& B, const Buffer& Y, F f, int threads = 1) {
  const T* a = A.as<T>();
  const T* b = B.as<T>();
  T* y = Y.as<T>();
  const std::int64_t rows = Y.shape.rows, cols = Y.shape.cols;
  const bool ra = A.shape.rows > 1, rb = B.shape.rows > 1;
  const bool ca = A.shape.cols > 1, cb = B.shape.cols > 1;
  auto row = [&](std::int64_t r, std::int64_t j0, std::int64_t j1) {
    const T* pa = a + (ra ? r * A.shape.cols : 0) + (ca ? j0 : 0);
    const T* pb = b + (rb ? r * B.shape.cols : 0) + (cb ? j0 : 0);
    T* py = y + r * cols + j0;
    const std::int64_t n = j1 - j0;
    if (ca && cb) detail::row_loop<T, 1, 1>(pa, pb, py, n, f);
    else if (ca) detail::row_loop<T, 1, 0>(pa, pb, py, n, f);
    else if (cb) detail::row_loop<T, 0, 1>(pa, pb, py, n, f);
    else detail::row_loop<T, 0, 0>(pa, pb, py, n, f);
  };
  if (rows == 1) {
    parallel_for(threads, cols, [&](std::int64_t j0, std::int64_t j1) {
      with_simd([&] { row(0, j0, j1); });
    });
    return;
  }
  parallel_for_rows(threads, rows, cols, [&](std::int64_t r0, std::int64_t r1) {
    with_simd([&] {
      for (std::int64_t r = r0; r < r1; ++r) row(r, 0, cols);
    });
  });
}

template <class T, class F>
void map_binary(const KernelCall& c, F f) {
  map_binary<T>(c.in[0], c.in[1], c.out, f, c.run.threads);
}

// A double sum whose rounding error stays near one ulp of the result however
// many terms it adds: four interleaved partial sums, each carrying the exact
// rounding error of its adds (Knuth's TwoSum). The lanes are a GCC/clang
// vector type, since the vectorizer leaves the scalar form as it is.
class CompensatedSum4 {
 public:
  // Adds t[0], ..., t[n-1].
  void add(const double* t, std::int64_t n) {
    std::int64_t k = 0;
    for (; k + 4 <= n; k += 4) {
      Lanes v;
      __builtin_memcpy(&v, t + k, sizeof v);
      two_sum(sum_, err_, v);
    }
    for (; k < n; ++k) {
      Lanes v = {t[k], 0.0, 0.0, 0.0};
      two_sum(sum_, err_, v);
    }
  }
  double value() const {
    double s = 0.0, e = 0.0;
    for (int l = 0; l < 4; ++l) {
      const double u = s + sum_[l], v = u - s;
      e += (s - (u - v)) + (sum_[l] - v) + err_[l];
      s = u;
    }
    return s + e;
  }

 private:
  using Lanes = double __attribute__((vector_size(32)));
  static void two_sum(Lanes& s, Lanes& e, const Lanes& t) {
    const Lanes u = s + t;
    const Lanes v = u - s;
    e += (s - (u - v)) + (t - v);
    s = u;
  }
  Lanes sum_ = {0.0, 0.0, 0.0, 0.0};
  Lanes err_ = {0.0, 0.0, 0.0, 0.0};
};

// C = alpha op(A) op(B) + beta C (row-major; the transposes are flags, beta
// is 0 or 1). Tiny products (M N K <= small_gemm_limit) run in a plain loop,
// since a library's per-call setup costs more than their arithmetic; the
// rest go to blas_gemm. Defined in ops/matmul.cpp for float and double.
inline constexpr std::int64_t small_gemm_limit = 16384;
template <class T>
void gemm(const Buffer& A, bool trans_a, const Buffer& B, bool trans_b, T alpha, T beta,
          const Buffer& C);
// The same product always through a library: OpenBLAS or oneDNN, the one
// ops/gemm_planner.hpp chose for the shape (also the GEMM-only baseline of
// `dagrad bench`). Defined in ops/gemm_planner.cpp.
template <class T>
void blas_gemm(const Buffer& A, bool trans_a, const Buffer& B, bool trans_b, T alpha, T beta,
               const Buffer& C);

// The float and double instantiations of a kernel template, for an OpDef.
#define DAGRAD_KERNELS(fn) &fn<float>, &fn<double>

}  // namespace dagrad::ops
