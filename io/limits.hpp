// How much memory one request may ask for. A hostile size (a file header that
// claims 2^50 values, --m 10^12) must be refused with its size before the
// allocation, not end in std::bad_alloc or in the kernel's OOM killer.
#pragma once

#include <cstddef>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace dagrad::io {

// The machine's physical memory, or the address-space limit (ulimit -v) when
// that is lower; read once.
std::uint64_t memory_limit();

// InputError "<what> needs 512 GB (512000000000 bytes), more than this
// machine's memory (23.4 GB)" when `bytes` exceeds memory_limit().
void check_memory(std::uint64_t bytes, std::string_view what);
// The same, with `what()` formatted only when the check fails: a deep net
// makes thousands of tensors, and formatting each one's description cost
// more than making it.
template <std::invocable What>
void check_memory(std::uint64_t bytes, What what) {
  if (bytes > memory_limit()) check_memory(bytes, std::string_view(what()));
}

// rows * cols of a Matrix of doubles, after check_memory: the size a reader
// or a caller asks for is refused with its size rather than ending in
// std::bad_alloc. InputError for a negative dimension or an overflow.
std::size_t matrix_values(std::int64_t rows, std::int64_t cols);

// 1.5 GB, 12 kB, 512 B: a byte count for people.
std::string format_bytes(std::uint64_t bytes);

}  // namespace dagrad::io
