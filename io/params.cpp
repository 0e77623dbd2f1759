#include "dagrad/io/params.hpp"

#include <zlib.h>

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/npy.hpp"
#include "dagrad/io/read_file.hpp"
#include "dagrad/io/zip.hpp"

namespace dagrad::io {
namespace {

constexpr std::string_view meta_prefix = "dagrad-params ";
constexpr int format_version = 1;

// CRC-32 over name, NUL, .npy bytes of each entry in order.
std::uint32_t params_checksum(const std::vector<ZipEntry>& entries) {
  uLong crc = crc32_z(0, nullptr, 0);
  for (const ZipEntry& e : entries) {
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(e.name.c_str()), e.name.size() + 1);
    crc = crc32_z(crc, e.data.data(), e.data.size());
  }
  return static_cast<std::uint32_t>(crc);
}

// A dagrad comment must be exactly "dagrad-params <version> crc32=<hex>".
void check_meta(const ZipArchive& archive, std::string_view origin) {
  std::string_view c = archive.comment;
  if (!c.starts_with(meta_prefix)) return;  // a plain numpy file: nothing to check
  c.remove_prefix(meta_prefix.size());
  int version = 0;
  auto [p, ec] = std::from_chars(c.data(), c.data() + c.size(), version);
  if (ec != std::errc() || version != format_version)
    throw InputError(fmt::format("{}: unknown dagrad params format version '{}' (this dagrad reads version {})",
                                 origin, c.substr(0, c.find(' ')), format_version));
  const std::string_view rest(p, c.data() + c.size() - p);
  std::uint32_t stored = 0;
  const bool well_formed = rest.size() == 15 && rest.starts_with(" crc32=") &&
                           std::from_chars(rest.data() + 7, rest.data() + 15, stored, 16).ptr == rest.data() + 15;
  if (!well_formed)
    throw InputError(fmt::format("{}: malformed dagrad params comment '{}'", origin, archive.comment));
  const std::uint32_t actual = params_checksum(archive.entries);
  if (stored != actual)
    throw InputError(fmt::format("{}: checksum mismatch (file records crc32={:08x}, contents give {:08x}): "
                                 "the file was modified or corrupted", origin, stored, actual));
}

// A parameter is a finite number: NaN or Inf in a file would train or
// evaluate to NaN with no word of where it came from.
void check_finite(const std::string& name, const Matrix& m, std::string_view origin) {
  for (std::size_t k = 0; k < m.values.size(); ++k)
    if (!std::isfinite(m.values[k]))
      throw InputError(fmt::format("{}: {} element ({}, {}) is {:g}; a parameter must be a finite number", origin,
                                   name, k / static_cast<std::size_t>(m.cols()),
                                   k % static_cast<std::size_t>(m.cols()), m.values[k]));
}

Matrix param_matrix(const Array& a, std::string_view origin) {
  if (a.shape.size() == 1) {
    Matrix m(Shape{a.shape[0], 1});
    m.values = a.values;
    return m;
  }
  return to_matrix(a, origin);
}

}  // namespace

void save_params(const std::filesystem::path& path, const NamedMatrices& params, DType dtype) {
  AtomicFile file(path);
  ZipArchive archive;
  for (const auto& [name, m] : params) {
    if (name.empty()) throw InputError(fmt::format("{}: a parameter has an empty name", path.string()));
    for (const ZipEntry& e : archive.entries)
      if (e.name == name + ".npy")
        throw InputError(fmt::format("{}: parameter {} appears twice", path.string(), name));
    archive.entries.push_back({name + ".npy", write_npy_bytes(to_array(m, dtype))});
  }
  archive.comment = fmt::format("{}{} crc32={:08x}", meta_prefix, format_version, params_checksum(archive.entries));
  file.write(write_zip_bytes(archive, Compression::stored));
  file.commit();
}

NamedMatrices load_params_bytes(std::span<const std::uint8_t> bytes, std::string_view origin) {
  const ZipArchive archive = read_zip_bytes(bytes, origin);
  check_meta(archive, origin);
  NamedMatrices params;
  for (const ZipEntry& e : archive.entries) {
    std::string name = e.name.ends_with(".npy") ? e.name.substr(0, e.name.size() - 4) : e.name;
    const std::string entry_origin = fmt::format("{} (entry '{}')", origin, e.name);
    for (const auto& [n, m] : params)
      if (n == name) throw InputError(fmt::format("{}: parameter {} appears twice", origin, name));
    Matrix m = param_matrix(read_npy_bytes(e.data, entry_origin), entry_origin);
    check_finite(name, m, origin);
    params.emplace_back(std::move(name), std::move(m));
  }
  return params;
}

NamedMatrices load_params(const std::filesystem::path& path) {
  return load_params_bytes(read_file_bytes(path), path.string());
}

void check_params_against(const NamedMatrices& params,
                          const std::vector<std::pair<std::string, Shape>>& expected,
                          std::string_view origin) {
  for (const auto& [name, shape] : expected) {
    const Matrix* found = nullptr;
    for (const auto& [n, m] : params)
      if (n == name) found = &m;
    if (!found)
      throw InputError(fmt::format("{}: {} is missing (the model needs {})", origin, name, to_string(shape)));
    if (found->shape != shape)
      throw InputError(fmt::format("{}: {} has shape {} but the model needs {}", origin, name,
                                   to_string(found->shape), to_string(shape)));
  }
  for (const auto& [n, m] : params) {
    bool known = false;
    for (const auto& [name, shape] : expected) known = known || name == n;
    if (!known) throw InputError(fmt::format("{}: {} is not a parameter of the model", origin, n));
  }
}

}  // namespace dagrad::io
