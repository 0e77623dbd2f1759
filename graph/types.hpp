// Basic value types of the graph IR: element types and 2-D shapes.
//
// Every value in dagrad is a 2-D matrix stored row-major. As in the notes,
// rows are units or features and columns are samples: X is (n[0] x m),
// W[l] is (n[l] x n[l-1]), b[l] is (n[l] x 1), a scalar is (1 x 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dagrad {

enum class DType : std::uint8_t { f32, f64 };

constexpr std::size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 8; }
constexpr std::string_view dtype_name(DType t) { return t == DType::f32 ? "f32" : "f64"; }

struct Shape {
  std::int64_t rows = 1;
  std::int64_t cols = 1;

  constexpr std::int64_t size() const { return rows * cols; }
  constexpr bool is_scalar() const { return rows == 1 && cols == 1; }
  friend constexpr bool operator==(const Shape&, const Shape&) = default;
};

// "(3x400)": the form every shape error uses.
std::string to_string(Shape s);

// Throws ShapeError when rows*cols*elem_size would overflow or exceed `limit`
// bytes, naming `what`. Called before anything is allocated.
std::size_t checked_bytes(Shape s, DType t, std::string_view what);

}  // namespace dagrad
