// The dense matrix every file reader hands back: data sets (X is n_x x m,
// Y is 1 x m) and parameters (W[l] is n[l] x n[l-1], b[l] is n[l] x 1).
//
// Values are widened to double whatever the file held; a float32 parameter
// converts to double and back without change, so f32 files round-trip exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "dagrad/graph/types.hpp"
#include "dagrad/io/limits.hpp"

namespace dagrad::io {

struct Matrix {
  Shape shape{0, 0};
  std::vector<double> values;  // row-major: element (r, c) is values[r * cols + c]

  Matrix() = default;
  // A rows x cols matrix filled with `fill`; a size beyond this machine's
  // memory is an InputError with the size (io/limits.hpp).
  explicit Matrix(Shape s, double fill = 0.0) : shape(s), values(matrix_values(s.rows, s.cols), fill) {}

  double& operator()(std::int64_t r, std::int64_t c) { return values[index(r, c)]; }
  double operator()(std::int64_t r, std::int64_t c) const { return values[index(r, c)]; }

  std::int64_t rows() const { return shape.rows; }
  std::int64_t cols() const { return shape.cols; }
  friend bool operator==(const Matrix&, const Matrix&) = default;

 private:
  std::size_t index(std::int64_t r, std::int64_t c) const {
    return static_cast<std::size_t>(r * shape.cols + c);
  }
};

}  // namespace dagrad::io
