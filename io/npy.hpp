// numpy .npy files (format versions 1.0, 2.0 and 3.0).
//
// Readers parse a byte span and take `origin` (a file name) for their errors,
// so the fuzzers call them directly; the file wrappers only add I/O. Every
// malformed input is an InputError naming the origin and the byte offset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dagrad/graph/types.hpp"
#include "dagrad/io/matrix.hpp"

namespace dagrad::io {

// An n-d array in C (row-major) order. Float files keep their width in `dtype`;
// integer and bool files are read as f64. `descr` is the file's type string
// ("<f8", "|u1", ...) so a caller can tell uint8 pixels from floats.
struct Array {
  std::vector<std::int64_t> shape;  // {} is a 0-d scalar
  DType dtype = DType::f64;
  std::string descr = "<f8";
  std::vector<double> values;
};

Array read_npy_bytes(std::span<const std::uint8_t> bytes, std::string_view origin);
Array read_npy(const std::filesystem::path& path);

// An .npy file's array shape, from its header alone (the file's size is
// checked against it, as read_npy checks it).
std::vector<std::int64_t> read_npy_shape(const std::filesystem::path& path);
// The indices [begin, end) of `axis` (0 or 1) of an .npy file's array, the
// other axes whole: one process's part of a data file. Only those values'
// bytes are read (C or Fortran order alike); the result is in C order.
Array read_npy_range(const std::filesystem::path& path, int axis, std::int64_t begin, std::int64_t end);

// Writes '<f4' or '<f8' by `a.dtype` (descr is ignored), C order, header v1.0
// (v2.0 when the header would not fit in 65535 bytes). numpy.load reads it.
std::vector<std::uint8_t> write_npy_bytes(const Array& a);
void write_npy(const std::filesystem::path& path, const Array& a);

// 0-d -> 1x1, 1-d (n,) -> 1 x n (a row, like labels), 2-d -> as is; more dims
// is an InputError naming `origin`.
Matrix to_matrix(const Array& a, std::string_view origin);
// A 2-d array holding `m` with the given element type.
Array to_array(const Matrix& m, DType dtype);

}  // namespace dagrad::io
