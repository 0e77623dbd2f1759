#include "dagrad/io/zip.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::io {
namespace {

constexpr std::uint32_t local_sig = 0x04034b50;
constexpr std::uint32_t central_sig = 0x02014b50;
constexpr std::uint32_t end_sig = 0x06054b50;
constexpr std::uint32_t end64_sig = 0x06064b50;
constexpr std::uint32_t locator64_sig = 0x07064b50;
constexpr std::uint32_t mask32 = 0xFFFFFFFF;

// Bounds-checked little-endian reads; every failure names the offset.
class Bytes {
 public:
  Bytes(std::span<const std::uint8_t> b, std::string_view origin) : b_(b), origin_(origin) {}
  [[noreturn]] void fail(std::uint64_t at, std::string_view what) const {
    throw InputError(fmt::format("{}: bad zip archive at byte {}: {}", origin_, at, what));
  }
  void need(std::uint64_t at, std::uint64_t n, std::string_view what) const {
    if (at > b_.size() || n > b_.size() - at)
      fail(at, fmt::format("{} needs {} bytes but the file ends at byte {}", what, n, b_.size()));
  }
  std::uint64_t le(std::uint64_t at, std::size_t n) const {
    need(at, n, "a field");
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | b_[at + i];
    return v;
  }
  std::span<const std::uint8_t> slice(std::uint64_t at, std::uint64_t n, std::string_view what) const {
    need(at, n, what);
    return b_.subspan(at, n);
  }
  std::size_t size() const { return b_.size(); }
  std::string_view origin() const { return origin_; }

 private:
  std::span<const std::uint8_t> b_;
  std::string_view origin_;
};

struct EndRecord {
  std::uint64_t entries = 0, cd_size = 0, cd_offset = 0;
  std::string comment;
};

// The end-of-central-directory record is the last 22 bytes plus a comment of
// up to 65535 bytes, so search backwards over at most that window.
std::uint64_t find_end(const Bytes& b) {
  if (b.size() < 22) b.fail(0, "too short for an end-of-central-directory record (22 bytes)");
  const std::uint64_t last = b.size() - 22;
  const std::uint64_t first = last > 65535 ? last - 65535 : 0;
  for (std::uint64_t at = last + 1; at-- > first;)
    if (b.le(at, 4) == end_sig && at + 22 + b.le(at + 20, 2) <= b.size()) return at;
  b.fail(last, "no end-of-central-directory record (not a zip file)");
}

EndRecord read_end(const Bytes& b) {
  const std::uint64_t at = find_end(b);
  EndRecord e;
  e.entries = b.le(at + 10, 2);
  e.cd_size = b.le(at + 12, 4);
  e.cd_offset = b.le(at + 16, 4);
  const auto c = b.slice(at + 22, b.le(at + 20, 2), "the archive comment");
  e.comment.assign(c.begin(), c.end());
  if (b.le(at + 4, 2) != 0 || b.le(at + 6, 2) != 0) b.fail(at + 4, "multi-disk archives are not supported");
  // ZIP64: a locator just before the record points at the 64-bit end record.
  if (at >= 20 && b.le(at - 20, 4) == locator64_sig) {
    const std::uint64_t at64 = b.le(at - 12, 8);
    if (b.le(at64, 4) != end64_sig) b.fail(at64, "ZIP64 end record signature missing");
    e.entries = b.le(at64 + 32, 8);
    e.cd_size = b.le(at64 + 40, 8);
    e.cd_offset = b.le(at64 + 48, 8);
  }
  return e;
}

struct CentralEntry {
  std::string name;
  std::uint32_t crc = 0;
  std::uint16_t flags = 0, method = 0;
  std::uint64_t csize = 0, usize = 0, local_offset = 0;
};

// ZIP64 extended information (header id 0x0001): 8-byte usize, csize, offset,
// each present only when the 32-bit field holds 0xFFFFFFFF, in that order.
void apply_zip64_extra(const Bytes& b, std::uint64_t at, std::uint64_t len, CentralEntry& e) {
  const std::uint64_t end = at + len;
  while (at + 4 <= end) {
    const std::uint64_t id = b.le(at, 2), size = b.le(at + 2, 2);
    if (at + 4 + size > end) b.fail(at, "extra field runs past its entry");
    if (id == 0x0001) {
      std::uint64_t p = at + 4;
      for (std::uint64_t* field : {&e.usize, &e.csize, &e.local_offset}) {
        if (*field != mask32) continue;
        if (p + 8 > at + 4 + size) b.fail(p, "ZIP64 extra field too short");
        *field = b.le(p, 8);
        p += 8;
      }
    }
    at += 4 + size;
  }
}

CentralEntry read_central(const Bytes& b, std::uint64_t& at) {
  if (b.le(at, 4) != central_sig) b.fail(at, "central directory entry signature missing");
  CentralEntry e;
  e.flags = static_cast<std::uint16_t>(b.le(at + 8, 2));
  e.method = static_cast<std::uint16_t>(b.le(at + 10, 2));
  e.crc = static_cast<std::uint32_t>(b.le(at + 16, 4));
  e.csize = b.le(at + 20, 4);
  e.usize = b.le(at + 24, 4);
  const std::uint64_t name_len = b.le(at + 28, 2), extra_len = b.le(at + 30, 2), comment_len = b.le(at + 32, 2);
  e.local_offset = b.le(at + 42, 4);
  const auto name = b.slice(at + 46, name_len, "an entry name");
  e.name.assign(name.begin(), name.end());
  b.need(at + 46 + name_len, extra_len + comment_len, "an entry's extra field and comment");
  apply_zip64_extra(b, at + 46 + name_len, extra_len, e);
  at += 46 + name_len + extra_len + comment_len;
  return e;
}

// Raw deflate (no zlib header: windowBits -15), fed in chunks because zlib's
// counters are 32-bit. The output must be exactly `usize` bytes.
std::vector<std::uint8_t> inflate_raw(std::span<const std::uint8_t> in, std::uint64_t usize,
                                      const Bytes& b, std::uint64_t at) {
  std::vector<std::uint8_t> out(usize);
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) b.fail(at, "zlib inflateInit2 failed");
  std::size_t in_pos = 0, out_pos = 0;
  int rc = Z_OK;
  constexpr std::size_t chunk = 1u << 30;
  while (rc == Z_OK) {
    z.next_in = const_cast<Bytef*>(in.data() + in_pos);
    z.avail_in = static_cast<uInt>(std::min(chunk, in.size() - in_pos));
    z.next_out = out.data() + out_pos;
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(chunk, out.size() - out_pos));
    const uInt had_in = z.avail_in, had_out = z.avail_out;
    rc = inflate(&z, Z_NO_FLUSH);
    in_pos += had_in - z.avail_in;
    out_pos += had_out - z.avail_out;
    if (rc == Z_BUF_ERROR && had_in == z.avail_in && had_out == z.avail_out) break;
    if (rc == Z_BUF_ERROR) rc = Z_OK;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    b.fail(at, out_pos == out.size() ? "deflate data longer than the recorded size"
                                     : "corrupt or truncated deflate data");
  if (out_pos != usize) b.fail(at, fmt::format("inflated to {} bytes, directory says {}", out_pos, usize));
  return out;
}

std::uint32_t crc_of(std::span<const std::uint8_t> data) {
  return static_cast<std::uint32_t>(crc32_z(crc32_z(0, nullptr, 0), data.data(), data.size()));
}

ZipEntry read_entry_data(const Bytes& b, const CentralEntry& e) {
  const std::uint64_t at = e.local_offset;
  if (b.le(at, 4) != local_sig) b.fail(at, fmt::format("local header of '{}' missing", e.name));
  if (e.flags & 0x1) b.fail(at, fmt::format("'{}' is encrypted", e.name));
  const std::uint64_t name_len = b.le(at + 26, 2), extra_len = b.le(at + 28, 2);
  const auto local_name = b.slice(at + 30, name_len, "a local entry name");
  // Compared as bytes: a name's UTF-8 bytes past 0x7F are negative as char
  // and 0x80..0xFF as uint8_t, and equal as bytes.
  const auto same_byte = [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); };
  if (!std::equal(local_name.begin(), local_name.end(), e.name.begin(), e.name.end(), same_byte))
    b.fail(at + 30, fmt::format("local name differs from the directory's '{}'", e.name));
  const std::uint64_t data_at = at + 30 + name_len + extra_len;
  const auto packed = b.slice(data_at, e.csize, fmt::format("the data of '{}'", e.name));
  ZipEntry out{e.name, {}};
  if (e.method == 0) {
    if (e.usize != e.csize) b.fail(at, fmt::format("stored '{}' has differing sizes", e.name));
    out.data.assign(packed.begin(), packed.end());
  } else if (e.method == 8) {
    // Deflate expands at most 1032:1; a larger claim is corruption, refused
    // before allocating.
    if (e.usize / 1032 > e.csize + 1) b.fail(at, fmt::format("'{}' claims an impossible size", e.name));
    out.data = inflate_raw(packed, e.usize, b, data_at);
  } else {
    b.fail(at, fmt::format("'{}' uses compression method {} (only 0 and 8 are supported)", e.name, e.method));
  }
  if (crc_of(out.data) != e.crc) b.fail(data_at, fmt::format("CRC-32 mismatch in '{}'", e.name));
  return out;
}

// Two entries of one name: readers disagree on which one counts (this one
// takes the first, numpy.load the last), so the archive is refused.
void refuse_duplicate(const Bytes& b, std::set<std::string>& seen, const CentralEntry& e, std::uint64_t at) {
  if (!seen.insert(e.name).second)
    b.fail(at, fmt::format("entry '{}' appears twice (readers differ on which copy counts)", e.name));
}

}  // namespace

ZipArchive read_zip_bytes(std::span<const std::uint8_t> bytes, std::string_view origin) {
  const Bytes b(bytes, origin);
  const EndRecord end = read_end(b);
  b.need(end.cd_offset, end.cd_size, "the central directory");
  ZipArchive archive;
  archive.comment = end.comment;
  std::uint64_t at = end.cd_offset;
  // Each central entry is at least 46 bytes: bounds the count before looping.
  if (end.entries > end.cd_size / 46) b.fail(end.cd_offset, "entry count exceeds the central directory");
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < end.entries; ++i) {
    const std::uint64_t entry_at = at;
    const CentralEntry e = read_central(b, at);
    refuse_duplicate(b, seen, e, entry_at);
    if (at > end.cd_offset + end.cd_size) b.fail(at, "central directory overruns its recorded size");
    archive.entries.push_back(read_entry_data(b, e));
  }
  return archive;
}

namespace {

void put(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::vector<std::uint8_t> deflate_raw(std::span<const std::uint8_t> in) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw InputError("zip writer: zlib deflateInit2 failed");
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw InputError("zip writer: zlib deflate failed");
  return out;
}

// The fields shared by local headers and central entries, from "version needed".
void put_common(std::vector<std::uint8_t>& out, const std::string& name, std::uint16_t method,
                std::uint32_t crc, std::size_t csize, std::size_t usize) {
  const bool ascii = std::all_of(name.begin(), name.end(), [](char c) { return (c & 0x80) == 0; });
  put(out, 20, 2);                 // version needed: 2.0 (deflate)
  put(out, ascii ? 0 : 0x800, 2);  // flags: bit 11 = UTF-8 name
  put(out, method, 2);
  put(out, 0, 2);     // time 00:00:00
  put(out, 0x21, 2);  // date 1980-01-01
  put(out, crc, 4);
  put(out, csize, 4);
  put(out, usize, 4);
  put(out, name.size(), 2);
}

}  // namespace

std::vector<std::uint8_t> write_zip_bytes(const ZipArchive& archive, Compression how) {
  std::vector<std::uint8_t> out, central;
  const std::uint16_t method = how == Compression::deflated ? 8 : 0;
  for (const ZipEntry& e : archive.entries) {
    // Bit 11 declares the name UTF-8; a name that is not (or holds a control
    // byte) is refused now rather than written into a file readers reject.
    if (printable(e.name) != e.name)
      throw InputError(fmt::format("zip writer: the entry name '{}' is not printable UTF-8 text", e.name));
    if (e.data.size() >= mask32 || out.size() >= mask32 || e.name.size() > 0xFFFF)
      throw InputError(fmt::format("zip writer: '{}' is too large for a zip32 archive", e.name));
    const std::uint32_t crc = crc_of(e.data);
    const std::vector<std::uint8_t> packed = method == 8 ? deflate_raw(e.data) : e.data;
    put(central, central_sig, 4);
    put(central, 20, 2);  // version made by: MS-DOS, 2.0
    put_common(central, e.name, method, crc, packed.size(), e.data.size());
    put(central, 0, 4);  // extra length, comment length
    put(central, 0, 4);  // disk number, internal attributes
    put(central, 0, 4);  // external attributes
    put(central, out.size(), 4);
    central.insert(central.end(), e.name.begin(), e.name.end());
    put(out, local_sig, 4);
    put_common(out, e.name, method, crc, packed.size(), e.data.size());
    put(out, 0, 2);  // extra length
    out.insert(out.end(), e.name.begin(), e.name.end());
    out.insert(out.end(), packed.begin(), packed.end());
  }
  if (out.size() + central.size() >= mask32 || archive.entries.size() >= 0xFFFF || archive.comment.size() > 0xFFFF)
    throw InputError("zip writer: archive too large for zip32");
  const std::size_t cd_offset = out.size();
  out.insert(out.end(), central.begin(), central.end());
  put(out, end_sig, 4);
  put(out, 0, 4);  // disk numbers
  put(out, archive.entries.size(), 2);
  put(out, archive.entries.size(), 2);
  put(out, central.size(), 4);
  put(out, cd_offset, 4);
  put(out, archive.comment.size(), 2);
  out.insert(out.end(), archive.comment.begin(), archive.comment.end());
  return out;
}

}  // namespace dagrad::io
