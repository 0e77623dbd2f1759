// Splitting an element-wise loop over threads. The threads are OpenMP's
// (libgomp), the same pool that OpenBLAS's GEMMs run on (CMakeLists.txt links
// the OpenMP build of OpenBLAS), so one pool owns the cores and nothing spins
// beside it. Built without OpenMP (clang), every loop runs on one thread.
//
// The ranges are contiguous, start at multiples of parallel_align elements,
// and each element is computed by the same code whatever the split, so the
// results are bitwise the same for any thread count.
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(_OPENMP)
#define DAGRAD_OMP(directive) _Pragma(#directive)
#else
#define DAGRAD_OMP(directive)
#endif

namespace dagrad::ops {

// Below this many elements per thread, waking a second thread costs more
// than it saves (a libgomp fork-join is about a microsecond; a relu over
// 16384 floats about four).
inline constexpr std::int64_t parallel_grain = 16384;
inline constexpr std::int64_t parallel_align = 16;

// How many ranges [0, n) is split into when `threads` may be used.
inline int parallel_parts(int threads, std::int64_t n, std::int64_t grain = parallel_grain) {
  if (threads <= 1 || n < 2 * grain) return 1;
  return static_cast<int>(std::min<std::int64_t>(threads, n / grain));
}

// The k-th of `parts` contiguous ranges of [0, n), aligned.
struct Range {
  std::int64_t begin, end;
};
inline Range parallel_range(std::int64_t n, int parts, int k, std::int64_t align = parallel_align) {
  const std::int64_t per = (n + parts - 1) / parts;
  const std::int64_t step = (per + align - 1) / align * align;
  const std::int64_t b = std::min(n, step * k);
  return {b, std::min(n, b + step)};
}

// Calls body(begin, end) on disjoint ranges covering [0, n), on up to
// `threads` threads. body must not throw.
template <class F>
void parallel_for(int threads, std::int64_t n, F&& body, std::int64_t grain = parallel_grain,
                  std::int64_t align = parallel_align) {
  const int parts = parallel_parts(threads, n, grain);
  if (parts <= 1) {
    if (n > 0) body(std::int64_t{0}, n);
    return;
  }
  DAGRAD_OMP(omp parallel for num_threads(parts) schedule(static, 1))
  for (int k = 0; k < parts; ++k) {
    const Range r = parallel_range(n, parts, k, align);
    if (r.begin < r.end) body(r.begin, r.end);
  }
}

// Calls body(r0, r1) on disjoint ranges of rows covering [0, rows) of a
// (rows x cols) matrix, splitting only when each part gets at least
// parallel_grain elements.
template <class F>
void parallel_for_rows(int threads, std::int64_t rows, std::int64_t cols, F&& body) {
  const std::int64_t grain_rows = std::max<std::int64_t>(1, parallel_grain / std::max<std::int64_t>(cols, 1));
  parallel_for(threads, rows, body, grain_rows, 1);
}

}  // namespace dagrad::ops
