// Basic value types of the graph IR: element types and 2-D shapes.
//
// Every value in dagrad is a 2-D matrix stored row-major. As in the notes,
// rows are units or features and columns are samples: X is (n[0] x m),
// W[l] is (n[l] x n[l-1]), b[l] is (n[l] x 1), a scalar is (1 x 1).
//
// The sample count m is symbolic: a dimension equal to `m_dim` stands for
// however many samples are bound when a plan runs (TF's None, the notes'
// m), so one graph serves every batch size. Shape rules carry the symbol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace dagrad {

enum class DType : std::uint8_t { f32, f64 };

constexpr std::size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 8; }
constexpr std::string_view dtype_name(DType t) { return t == DType::f32 ? "f32" : "f64"; }

// The symbolic sample count m, as a dimension: Shape{n_x, m_dim} is (n_x x m).
inline constexpr std::int64_t m_dim = -1;

struct Shape {
  std::int64_t rows = 1;
  std::int64_t cols = 1;

  // NOTE: size() is the element count of a concrete shape only; bind m first
  // with at(m) when the shape may be symbolic.
  constexpr std::int64_t size() const { return rows * cols; }
  constexpr bool is_scalar() const { return rows == 1 && cols == 1; }
  constexpr bool symbolic() const { return rows == m_dim || cols == m_dim; }
  // The shape with m bound to `m` samples.
  constexpr Shape at(std::int64_t m) const {
    return Shape{rows == m_dim ? m : rows, cols == m_dim ? m : cols};
  }
  friend constexpr bool operator==(const Shape&, const Shape&) = default;
};

// "(3x400)" or "(3xm)": the form every shape error uses.
std::string to_string(Shape s);
// "400" or "m".
std::string to_string_dim(std::int64_t d);

// Throws ShapeError when rows*cols*elem_size would overflow or exceed `limit`
// bytes, naming `what`. Called before anything is allocated. A symbolic shape
// is checked per sample (m = 1).
std::size_t checked_bytes(Shape s, DType t, std::string_view what);
// The bytes when checked_bytes would accept the shape, else nullopt.
std::optional<std::size_t> bytes_within_limit(Shape s, DType t);
// The same check, with the name made by what() only when it throws: for a
// caller whose name costs a format on every call (the memory planner).
template <class What>
  requires std::is_invocable_r_v<std::string, What>
std::size_t checked_bytes(Shape s, DType t, What what) {
  if (const std::optional<std::size_t> bytes = bytes_within_limit(s, t)) return *bytes;
  return checked_bytes(s, t, std::string_view(what()));
}

}  // namespace dagrad
