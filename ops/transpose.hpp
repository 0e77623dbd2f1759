// y (cols x rows) = x (rows x cols)^T, both row-major, in 32 x 32 blocks so
// that neither side is read or written a cache line per element: the
// transpose op's kernel (ops/transpose.cpp), and train::Feeder's copies of
// a data set stored sample by sample.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dagrad::ops {

template <class T>
void transpose_matrix(const T* x, std::int64_t rows, std::int64_t cols, T* y) {
  constexpr std::int64_t block = 32;
  for (std::int64_t r0 = 0; r0 < rows; r0 += block)
    for (std::int64_t c0 = 0; c0 < cols; c0 += block) {
      const std::int64_t r1 = std::min(rows, r0 + block), c1 = std::min(cols, c0 + block);
      for (std::int64_t r = r0; r < r1; ++r)
        for (std::int64_t j = c0; j < c1; ++j) y[j * rows + r] = x[r * cols + j];
    }
}

}  // namespace dagrad::ops
