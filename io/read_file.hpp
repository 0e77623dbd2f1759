// Whole-file input shared by the readers: they parse byte spans (so fuzzers can
// call them directly) and these wrappers supply the bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace dagrad::io {

// The file's bytes; InputError naming the file when it cannot be opened or read.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path);

}  // namespace dagrad::io
