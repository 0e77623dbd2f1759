#include "dagrad/io/checked_zip.hpp"

#include <zlib.h>

#include <charconv>
#include <string>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::io {

namespace {

std::uint32_t checksum(const std::vector<ZipEntry>& entries) {
  uLong crc = crc32_z(0, nullptr, 0);
  for (const ZipEntry& e : entries) {
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(e.name.c_str()), e.name.size() + 1);
    crc = crc32_z(crc, e.data.data(), e.data.size());
  }
  return static_cast<std::uint32_t>(crc);
}

}  // namespace

std::vector<std::uint8_t> write_checked_zip(ZipArchive archive, std::string_view tag, int version) {
  archive.comment = fmt::format("{} {} crc32={:08x}", tag, version, checksum(archive.entries));
  return write_zip_bytes(archive, Compression::stored);
}

ZipArchive read_checked_zip(std::span<const std::uint8_t> bytes, std::string_view origin,
                            std::string_view tag, int version, bool required) {
  ZipArchive archive = read_zip_bytes(bytes, origin);
  std::string_view c = archive.comment;
  const std::string prefix = fmt::format("{} ", tag);
  if (!c.starts_with(prefix)) {
    if (!required) return archive;  // a plain numpy file: nothing to check
    throw InputError(fmt::format("{}: not a {} file (its zip comment does not start with '{}')",
                                 origin, tag, tag));
  }
  c.remove_prefix(prefix.size());
  int found = 0;
  auto [p, ec] = std::from_chars(c.data(), c.data() + c.size(), found);
  if (ec != std::errc() || found != version)
    throw InputError(fmt::format("{}: unknown {} format version '{}' (this dagrad reads version {})",
                                 origin, tag, c.substr(0, c.find(' ')), version));
  const std::string_view rest(p, c.data() + c.size() - p);
  std::uint32_t stored = 0;
  const bool well_formed =
      rest.size() == 15 && rest.starts_with(" crc32=") &&
      std::from_chars(rest.data() + 7, rest.data() + 15, stored, 16).ptr == rest.data() + 15;
  if (!well_formed)
    throw InputError(fmt::format("{}: malformed {} comment '{}'", origin, tag, archive.comment));
  const std::uint32_t actual = checksum(archive.entries);
  if (stored != actual)
    throw InputError(fmt::format("{}: checksum mismatch (file records crc32={:08x}, contents give "
                                 "{:08x}): the file was modified or corrupted",
                                 origin, stored, actual));
  return archive;
}

}  // namespace dagrad::io
