// numpy .npz files: a zip archive of .npy entries, as np.savez (STORED) and
// np.savez_compressed (DEFLATED) write them. Array names drop the ".npy".
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dagrad/io/npy.hpp"
#include "dagrad/io/zip.hpp"

namespace dagrad::io {

using NamedArrays = std::vector<std::pair<std::string, Array>>;

// Every entry must be a valid .npy; errors name `origin`, the entry and offset.
NamedArrays read_npz_bytes(std::span<const std::uint8_t> bytes, std::string_view origin);
NamedArrays read_npz(const std::filesystem::path& path);

// Bytes of an .npz holding `arrays` (names get ".npy") and the zip `comment`.
std::vector<std::uint8_t> write_npz_bytes(const NamedArrays& arrays, Compression how,
                                          std::string_view comment = {});
// Same, written atomically (AtomicFile).
void write_npz(const std::filesystem::path& path, const NamedArrays& arrays, Compression how,
               std::string_view comment = {});

// The array named `name`, or nullptr.
const Array* find_array(const NamedArrays& arrays, std::string_view name);

}  // namespace dagrad::io
