// A minimal zip archive reader and writer (PKWARE APPNOTE 6.3), enough for the
// .npz files numpy writes and reads: STORED and DEFLATED entries, CRC-32 and
// size checks, ZIP64 extra fields and end records when reading.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dagrad::io {

enum class Compression { stored, deflated };

struct ZipEntry {
  std::string name;
  std::vector<std::uint8_t> data;  // uncompressed
};

struct ZipArchive {
  std::vector<ZipEntry> entries;  // in central-directory order
  std::string comment;            // the archive comment (at most 65535 bytes)
};

// Reads every entry, inflating and checking its CRC-32 and sizes. Errors are
// InputError naming `origin` and the byte offset of the bad record.
ZipArchive read_zip_bytes(std::span<const std::uint8_t> bytes, std::string_view origin);

// Writes a zip32 archive (no ZIP64); an entry or archive of 4 GiB or more is an
// InputError. Timestamps are fixed at 1980-01-01 so output is reproducible.
std::vector<std::uint8_t> write_zip_bytes(const ZipArchive& archive, Compression how);

}  // namespace dagrad::io
