// Zip archives that carry their format and a checksum in the zip comment:
// "<tag> <version> crc32=<8 hex digits>", the CRC-32 over each entry's name,
// a NUL and its bytes, in order. Parameter files ("dagrad-params") and model
// files ("dagrad-model") are such archives; numpy still reads their .npy
// entries as an .npz.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dagrad/io/zip.hpp"

namespace dagrad::io {

std::vector<std::uint8_t> write_checked_zip(ZipArchive archive, std::string_view tag, int version);

// Reads the archive and checks its comment: a wrong version, a malformed
// comment or a checksum that does not match the entries is an InputError
// naming `origin`. Without the comment, the archive is returned as it is
// when `required` is false (a plain numpy .npz), else refused.
ZipArchive read_checked_zip(std::span<const std::uint8_t> bytes, std::string_view origin,
                            std::string_view tag, int version, bool required);

}  // namespace dagrad::io
