#include "dagrad/io/limits.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::io {

namespace {

std::uint64_t read_memory_limit() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t limit = pages > 0 && page > 0 ? std::uint64_t(pages) * std::uint64_t(page) : ~std::uint64_t{0};
  rlimit as{};
  if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
    limit = std::min<std::uint64_t>(limit, as.rlim_cur);
  return limit;
}

}  // namespace

std::uint64_t memory_limit() {
  static const std::uint64_t limit = read_memory_limit();
  return limit;
}

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 6) {
    v /= 1000.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.3g} {}", v, units[u]);
}

void check_memory(std::uint64_t bytes, std::string_view what) {
  const std::uint64_t limit = memory_limit();
  if (bytes <= limit) return;
  throw InputError(fmt::format("{} needs {} ({} bytes), more than this machine's memory ({})", what,
                               format_bytes(bytes), bytes, format_bytes(limit)));
}

std::size_t matrix_values(std::int64_t rows, std::int64_t cols) {
  if (rows < 0 || cols < 0)
    throw InputError(fmt::format("a matrix of {} x {}: a dimension is negative", rows, cols));
  const auto r = static_cast<std::uint64_t>(rows), c = static_cast<std::uint64_t>(cols);
  const std::uint64_t n = c != 0 && r > ~std::uint64_t{0} / 8 / c ? ~std::uint64_t{0} / 8 : r * c;
  check_memory(n * 8, fmt::format("a {} x {} matrix of doubles", rows, cols));
  return static_cast<std::size_t>(n);
}

}  // namespace dagrad::io
