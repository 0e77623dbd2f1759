#include "dagrad/io/npz.hpp"

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/read_file.hpp"

namespace dagrad::io {

NamedArrays read_npz_bytes(std::span<const std::uint8_t> bytes, std::string_view origin) {
  const ZipArchive archive = read_zip_bytes(bytes, origin);
  NamedArrays arrays;
  for (const ZipEntry& e : archive.entries) {
    // numpy.load names a member by its file name minus ".npy".
    std::string name = e.name;
    if (name.ends_with(".npy")) name.resize(name.size() - 4);
    if (find_array(arrays, name))
      throw InputError(fmt::format("{}: array '{}' appears twice", origin, name));
    const std::string entry_origin = fmt::format("{} (entry '{}')", origin, e.name);
    arrays.emplace_back(std::move(name), read_npy_bytes(e.data, entry_origin));
  }
  return arrays;
}

NamedArrays read_npz(const std::filesystem::path& path) {
  return read_npz_bytes(read_file_bytes(path), path.string());
}

std::vector<std::uint8_t> write_npz_bytes(const NamedArrays& arrays, Compression how,
                                          std::string_view comment) {
  ZipArchive archive;
  archive.comment = comment;
  for (const auto& [name, array] : arrays) archive.entries.push_back({name + ".npy", write_npy_bytes(array)});
  return write_zip_bytes(archive, how);
}

void write_npz(const std::filesystem::path& path, const NamedArrays& arrays, Compression how,
               std::string_view comment) {
  AtomicFile file(path);
  file.write(write_npz_bytes(arrays, how, comment));
  file.commit();
}

const Array* find_array(const NamedArrays& arrays, std::string_view name) {
  for (const auto& [n, a] : arrays)
    if (n == name) return &a;
  return nullptr;
}

}  // namespace dagrad::io
