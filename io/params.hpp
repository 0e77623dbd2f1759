// Parameter files: an .npz that numpy.load reads (arrays W1, b1, ..., WL, bL;
// b as (n, 1) like the notes), plus a format version and a CRC-32 checksum in
// the zip comment: "dagrad-params 1 crc32=<8 hex digits>". The checksum covers
// each entry's name and .npy bytes, so a swapped or edited array is detected.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dagrad/graph/types.hpp"
#include "dagrad/io/matrix.hpp"

namespace dagrad::io {

using NamedMatrices = std::vector<std::pair<std::string, Matrix>>;

// Writes atomically, values stored as `dtype` ('<f4' or '<f8'). Names must be
// unique and non-empty. An unwritable directory throws before writing.
void save_params(const std::filesystem::path& path, const NamedMatrices& params, DType dtype);

// Reads dagrad's files (checking version and checksum) and plain numpy files
// (np.savez / np.savez_compressed, no comment). A 1-d array (n,) becomes an
// (n x 1) column, as a bias is in the notes. Order is the file's.
NamedMatrices load_params(const std::filesystem::path& path);
NamedMatrices load_params_bytes(std::span<const std::uint8_t> bytes, std::string_view origin);

// Throws InputError unless `params` holds exactly the `expected` names with
// those shapes, e.g. "params.npz: W2 has shape (1x7) but the model needs (1x5)".
void check_params_against(const NamedMatrices& params,
                          const std::vector<std::pair<std::string, Shape>>& expected,
                          std::string_view origin);

}  // namespace dagrad::io
