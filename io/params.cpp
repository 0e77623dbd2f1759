#include "dagrad/io/params.hpp"

#include <cmath>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/checked_zip.hpp"
#include "dagrad/io/npy.hpp"
#include "dagrad/io/read_file.hpp"
#include "dagrad/io/zip.hpp"

namespace dagrad::io {
namespace {

constexpr std::string_view tag = "dagrad-params";
constexpr int format_version = 1;

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
  file.write(write_checked_zip(std::move(archive), tag, format_version));
  file.commit();
}

NamedMatrices load_params_bytes(std::span<const std::uint8_t> bytes, std::string_view origin) {
  const ZipArchive archive = read_checked_zip(bytes, origin, tag, format_version, false);
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
