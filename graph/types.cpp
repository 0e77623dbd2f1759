#include "dagrad/graph/types.hpp"

#include <limits>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad {

std::string to_string_dim(std::int64_t d) { return d == m_dim ? "m" : fmt::format("{}", d); }

std::string to_string(Shape s) {
  return fmt::format("({}x{})", to_string_dim(s.rows), to_string_dim(s.cols));
}

namespace {
// One value may not exceed 2^40 bytes (1 TiB): far above any memory here, far
// below where rows * cols * 8 could wrap. Refused before anything is allocated.
constexpr std::int64_t byte_limit = std::int64_t{1} << 40;
}  // namespace

std::optional<std::size_t> bytes_within_limit(Shape s, DType t) {
  s = s.at(1);
  const auto elem = static_cast<std::int64_t>(dtype_size(t));
  if (s.rows <= 0 || s.cols <= 0 || s.rows > byte_limit / s.cols || s.rows * s.cols > byte_limit / elem)
    return std::nullopt;
  return static_cast<std::size_t>(s.rows * s.cols * elem);
}

std::size_t checked_bytes(Shape s, DType t, std::string_view what) {
  if (const std::optional<std::size_t> bytes = bytes_within_limit(s, t)) return *bytes;
  s = s.at(1);
  if (s.rows <= 0 || s.cols <= 0)
    throw ShapeError(fmt::format("{}: shape {} has a dimension <= 0", what, to_string(s)));
  throw ShapeError(fmt::format("{}: shape {} of {} needs more than 2^40 bytes", what,
                               to_string(s), dtype_name(t)));
}

}  // namespace dagrad
