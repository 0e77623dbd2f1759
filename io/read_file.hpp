// Whole-file input shared by the readers: they parse byte spans (so fuzzers can
// call them directly) and these wrappers supply the bytes.
//
// Only regular files are read. A FIFO, a character device (/dev/zero,
// /dev/stdin on a terminal), a socket or a directory behind a data file's
// name is refused at once, before any read that could block forever or
// never end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace dagrad::io {

// The file's bytes; InputError naming the file when it is not a regular file,
// cannot be opened or read, or is larger than this machine's memory.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path);

// InputError naming `path` unless it names a regular file (symlinks followed),
// e.g. "x.csv: is a character device, not a regular file". For readers that
// open the path themselves (libhdf5). Opens nothing, so it never blocks.
void require_regular_file(const std::filesystem::path& path);

// Opens `path` for reading without blocking on a FIFO and checks, on the open
// descriptor, that it is a regular file (so a file swapped after the check is
// caught too). Returns the descriptor; the caller closes it.
int open_regular_file(const std::filesystem::path& path);

}  // namespace dagrad::io
