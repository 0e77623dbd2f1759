#include "dagrad/io/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <map>
#include <variant>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/read_file.hpp"

namespace dagrad::io {
namespace {

constexpr std::uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// One value of the header dict: a string, a bool or a tuple of ints.
using HeaderValue = std::variant<std::string, bool, std::vector<std::int64_t>>;

// Parses the Python dict literal numpy writes, e.g.
//   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
// honestly (any spacing, either quote, trailing commas) but nothing beyond the
// literals numpy itself emits. Errors give the absolute byte offset.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::size_t base, std::string_view origin)
      : text_(text), base_(base), origin_(origin) {}

  std::map<std::string, HeaderValue> parse_dict() {
    std::map<std::string, HeaderValue> dict;
    expect('{');
    while (!accept('}')) {
      std::string key = parse_string();
      expect(':');
      if (dict.contains(key)) fail(fmt::format("key '{}' appears twice", key));
      dict[key] = parse_value();
      if (!accept(',')) { expect('}'); break; }
    }
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header dict");
    return dict;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw InputError(fmt::format("{}: bad .npy header at byte {}: {}", origin_, base_ + pos_, what));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) { ++pos_; return true; }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(fmt::format("expected '{}'", c));
  }
  bool accept_word(std::string_view w) {
    skip_space();
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  std::string parse_string() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("expected a string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    if (s.find('\\') != std::string::npos) fail("escapes in header strings are not supported");
    pos_ = end + 1;
    return s;
  }
  std::int64_t parse_int() {
    skip_space();
    std::int64_t v = 0;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, text_[pos_] - '0', &v))
        fail("dimension too large");
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer");
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long suffix
    return v;
  }
  std::vector<std::int64_t> parse_tuple() {
    std::vector<std::int64_t> dims;
    while (!accept(')')) {
      if (dims.size() >= 32) fail("more than 32 dimensions");
      dims.push_back(parse_int());
      if (!accept(',')) { expect(')'); break; }
    }
    return dims;
  }
  HeaderValue parse_value() {
    if (accept('(')) return parse_tuple();
    if (accept_word("True")) return true;
    if (accept_word("False")) return false;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '[') fail("structured dtypes are not supported");
    return parse_string();
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t base_;
  std::string_view origin_;
};

// The element type named by a descr such as '<f8', '>i4', '|u1', '|b1'.
struct ElementType {
  bool big_endian = false;
  char kind = 'f';  // f, i, u, b
  std::size_t size = 8;
};

ElementType parse_descr(const std::string& descr, std::string_view origin) {
  auto bad = [&] {
    return InputError(fmt::format("{}: unsupported .npy dtype '{}' (want float, int, uint or bool)", origin, descr));
  };
  if (descr.size() < 3 || std::string_view("<>|=").find(descr[0]) == std::string_view::npos) throw bad();
  ElementType t;
  t.big_endian = descr[0] == '>' ||
                 (descr[0] == '=' && std::endian::native == std::endian::big);
  t.kind = descr[1];
  const std::string_view digits(descr.data() + 2, descr.size() - 2);
  if (digits == "1") t.size = 1;
  else if (digits == "2") t.size = 2;
  else if (digits == "4") t.size = 4;
  else if (digits == "8") t.size = 8;
  else throw bad();
  const bool ok = (t.kind == 'f' && (t.size == 4 || t.size == 8)) ||
                  ((t.kind == 'i' || t.kind == 'u')) || (t.kind == 'b' && t.size == 1);
  if (!ok) throw bad();
  return t;
}

// Loads one element, swapping bytes when the file's order is not ours.
double load_element(const std::uint8_t* p, const ElementType& t) {
  std::uint8_t b[8];
  std::memcpy(b, p, t.size);
  if (t.big_endian != (std::endian::native == std::endian::big))
    for (std::size_t i = 0; i < t.size / 2; ++i) std::swap(b[i], b[t.size - 1 - i]);
  auto as = [&]<typename T>(T) { T v; std::memcpy(&v, b, sizeof v); return static_cast<double>(v); };
  switch (t.kind) {
    case 'f': return t.size == 4 ? as(float{}) : as(double{});
    case 'b': return b[0] != 0 ? 1.0 : 0.0;
    case 'u':
      if (t.size == 1) return as(std::uint8_t{});
      if (t.size == 2) return as(std::uint16_t{});
      return t.size == 4 ? as(std::uint32_t{}) : as(std::uint64_t{});
    default:
      if (t.size == 1) return as(std::int8_t{});
      if (t.size == 2) return as(std::int16_t{});
      return t.size == 4 ? as(std::int32_t{}) : as(std::int64_t{});
  }
}

// Fortran order stores the first index fastest; walk the C-order destination
// with a mixed-radix counter and read from the matching Fortran position.
std::vector<double> fortran_to_c(const std::vector<double>& f, const std::vector<std::int64_t>& shape) {
  std::vector<double> c(f.size());
  const std::size_t nd = shape.size();
  std::vector<std::int64_t> idx(nd, 0), fstride(nd, 1);
  for (std::size_t d = 1; d < nd; ++d) fstride[d] = fstride[d - 1] * shape[d - 1];
  for (std::size_t k = 0; k < c.size(); ++k) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < nd; ++d) src += idx[d] * fstride[d];
    c[k] = f[static_cast<std::size_t>(src)];
    for (std::size_t d = nd; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return c;
}

std::uint32_t load_le(const std::uint8_t* p, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

}  // namespace

namespace {

struct Header {
  std::string descr;
  bool fortran = false;
  std::vector<std::int64_t> shape;
  std::size_t data_offset = 0;
};

template <typename T>
const T& header_field(const std::map<std::string, HeaderValue>& dict, const std::string& key,
                      std::string_view origin) {
  const auto it = dict.find(key);
  if (it == dict.end() || !std::holds_alternative<T>(it->second))
    throw InputError(fmt::format("{}: .npy header lacks a valid '{}' entry", origin, key));
  return std::get<T>(it->second);
}

Header read_header(std::span<const std::uint8_t> bytes, std::string_view origin) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, sizeof magic) != 0)
    throw InputError(fmt::format("{}: not a .npy file (no \\x93NUMPY magic at byte 0)", origin));
  const unsigned major = bytes[6];
  if (major < 1 || major > 3)
    throw InputError(fmt::format("{}: unsupported .npy format version {}.{} at byte 6", origin, major, bytes[7]));
  const std::size_t len_size = major == 1 ? 2 : 4;
  const std::size_t start = 8 + len_size;
  if (bytes.size() < start)
    throw InputError(fmt::format("{}: truncated .npy header at byte {}", origin, bytes.size()));
  const std::size_t header_len = load_le(bytes.data() + 8, len_size);
  if (header_len > bytes.size() - start)
    throw InputError(fmt::format("{}: truncated .npy header: {} header bytes announced at byte 8, "
                                 "file ends at byte {}", origin, header_len, bytes.size()));
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + start), header_len);
  const auto dict = HeaderParser(text, start, origin).parse_dict();
  if (dict.size() != 3)
    throw InputError(fmt::format("{}: .npy header must have exactly descr, fortran_order, shape", origin));
  Header h;
  h.descr = header_field<std::string>(dict, "descr", origin);
  h.fortran = header_field<bool>(dict, "fortran_order", origin);
  h.shape = header_field<std::vector<std::int64_t>>(dict, "shape", origin);
  h.data_offset = start + header_len;
  return h;
}

}  // namespace

Array read_npy_bytes(std::span<const std::uint8_t> bytes, std::string_view origin) {
  const Header h = read_header(bytes, origin);
  const ElementType t = parse_descr(h.descr, origin);
  std::int64_t count = 1;
  for (const std::int64_t d : h.shape)
    if (__builtin_mul_overflow(count, d, &count))
      throw InputError(fmt::format("{}: .npy shape overflows", origin));
  const std::size_t available = bytes.size() - h.data_offset;
  if (static_cast<std::uint64_t>(count) > available / t.size)
    throw InputError(fmt::format("{}: truncated .npy data: shape needs {} values of {} bytes from byte {}, "
                                 "but the file ends at byte {}", origin, count, t.size, h.data_offset, bytes.size()));
  const std::size_t data_bytes = static_cast<std::size_t>(count) * t.size;
  if (data_bytes != available)
    throw InputError(fmt::format("{}: {} unexpected bytes after the .npy data at byte {}", origin,
                                 available - data_bytes, h.data_offset + data_bytes));
  Array a;
  a.shape = h.shape;
  a.descr = h.descr;
  a.dtype = (t.kind == 'f' && t.size == 4) ? DType::f32 : DType::f64;
  a.values.resize(static_cast<std::size_t>(count));
  for (std::size_t k = 0; k < a.values.size(); ++k)
    a.values[k] = load_element(bytes.data() + h.data_offset + k * t.size, t);
  if (h.fortran && a.shape.size() > 1) a.values = fortran_to_c(a.values, a.shape);
  return a;
}

Array read_npy(const std::filesystem::path& path) {
  return read_npy_bytes(read_file_bytes(path), path.string());
}

namespace {

// An .npy file opened for reading parts of it: its header, element type
// and value count, checked against the file's size as read_npy_bytes
// checks them.
class NpyFile {
 public:
  explicit NpyFile(const std::filesystem::path& path) : origin_(path.string()), fd_(open_regular_file(path)) {
    try {
      struct stat st{};
      if (::fstat(fd_, &st) != 0) fail_io("stat");
      const auto size = static_cast<std::size_t>(st.st_size);
      std::vector<std::uint8_t> head(std::min<std::size_t>(size, 12));
      read_at(head.data(), head.size(), 0);
      if (head.size() >= 10 && head[6] >= 1 && head[6] <= 3) {  // else read_header names the fault
        const std::size_t start = head[6] == 1 ? 10 : 12;
        const std::size_t len = start <= head.size() ? load_le(head.data() + 8, start - 8) : 0;
        head.resize(std::min(size, start + len));
        read_at(head.data(), head.size(), 0);
      }
      header_ = read_header(head, origin_);
      type_ = parse_descr(header_.descr, origin_);
      std::int64_t count = 1;
      for (const std::int64_t d : header_.shape)
        if (__builtin_mul_overflow(count, d, &count)) throw InputError(fmt::format("{}: .npy shape overflows", origin_));
      const std::size_t available = size - header_.data_offset;
      if (static_cast<std::uint64_t>(count) > available / type_.size)
        throw InputError(fmt::format("{}: truncated .npy data: shape needs {} values of {} bytes from byte {}, "
                                     "but the file ends at byte {}", origin_, count, type_.size, header_.data_offset, size));
      if (static_cast<std::size_t>(count) * type_.size != available)
        throw InputError(fmt::format("{}: {} unexpected bytes after the .npy data at byte {}", origin_,
                                     available - static_cast<std::size_t>(count) * type_.size,
                                     header_.data_offset + static_cast<std::size_t>(count) * type_.size));
    } catch (...) {
      ::close(fd_);
      throw;
    }
  }
  ~NpyFile() { ::close(fd_); }
  NpyFile(const NpyFile&) = delete;
  NpyFile& operator=(const NpyFile&) = delete;

  const Header& header() const { return header_; }

  // `count` values from value index `at` (in file order), appended to `out`.
  void read_values(std::int64_t at, std::int64_t count, std::vector<double>& out) {
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(count) * type_.size);
    read_at(bytes.data(), bytes.size(), header_.data_offset + static_cast<std::size_t>(at) * type_.size);
    for (std::size_t k = 0; k < static_cast<std::size_t>(count); ++k)
      out.push_back(load_element(bytes.data() + k * type_.size, type_));
  }

  Array array_of(std::vector<std::int64_t> shape) const {
    Array a;
    a.shape = std::move(shape);
    a.descr = header_.descr;
    a.dtype = (type_.kind == 'f' && type_.size == 4) ? DType::f32 : DType::f64;
    return a;
  }

 private:
  [[noreturn]] void fail_io(std::string_view what) const {
    throw InputError(fmt::format("{}: cannot {}: {}", origin_, what, std::strerror(errno)));
  }
  void read_at(std::uint8_t* p, std::size_t n, std::size_t offset) {
    while (n > 0) {
      const ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) fail_io("read");
      if (r == 0) throw InputError(fmt::format("{}: the file ended at byte {} while reading", origin_, offset));
      p += r;
      n -= static_cast<std::size_t>(r);
      offset += static_cast<std::size_t>(r);
    }
  }

  std::string origin_;
  int fd_;
  Header header_;
  ElementType type_;
};

}  // namespace

std::vector<std::int64_t> read_npy_shape(const std::filesystem::path& path) {
  return NpyFile(path).header().shape;
}

Array read_npy_range(const std::filesystem::path& path, int axis, std::int64_t begin, std::int64_t end) {
  NpyFile f(path);
  const std::vector<std::int64_t>& full = f.header().shape;
  if (axis < 0 || static_cast<std::size_t>(axis) >= full.size() || begin < 0 || end < begin || end > full[axis])
    throw InputError(fmt::format("{}: no values [{}, {}) on axis {} of an array of shape ({})", path.string(),
                                 begin, end, axis, fmt::join(full, ", ")));
  std::vector<std::int64_t> shape = full;
  shape[axis] = end - begin;
  // The array as stored is C order over `dims` (Fortran order: the axes
  // reversed). Cutting axis a of it leaves `outer` runs of (end - begin) x
  // inner contiguous values.
  std::vector<std::int64_t> dims = full;
  std::size_t a = static_cast<std::size_t>(axis);
  if (f.header().fortran) {
    std::reverse(dims.begin(), dims.end());
    a = dims.size() - 1 - a;
  }
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= dims[d];
  for (std::size_t d = a + 1; d < dims.size(); ++d) inner *= dims[d];
  Array out = f.array_of(shape);
  out.values.reserve(static_cast<std::size_t>(outer * (end - begin) * inner));
  for (std::int64_t o = 0; o < outer && end > begin; ++o)
    f.read_values((o * dims[a] + begin) * inner, (end - begin) * inner, out.values);
  if (f.header().fortran && shape.size() > 1) out.values = fortran_to_c(out.values, shape);
  return out;
}

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

void append_le(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

std::vector<std::uint8_t> write_npy_bytes(const Array& a) {
  std::int64_t count = 1;
  for (const std::int64_t d : a.shape) count *= d;
  if (static_cast<std::size_t>(count) != a.values.size())
    throw InputError(fmt::format("npy writer: shape {} does not hold {} values", shape_text(a.shape), a.values.size()));
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 a.dtype == DType::f32 ? "<f4" : "<f8", shape_text(a.shape));
  // numpy pads magic + length + dict + '\n' to a multiple of 64 bytes.
  const bool v2 = dict.size() + 1 + 10 > 65535;
  const std::size_t prefix = v2 ? 12 : 10;
  const std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::vector<std::uint8_t> out(magic, magic + sizeof magic);
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  append_le(out, dict.size(), v2 ? 4 : 2);
  out.insert(out.end(), dict.begin(), dict.end());
  for (const double v : a.values) {
    if (a.dtype == DType::f32) append_le(out, std::bit_cast<std::uint32_t>(static_cast<float>(v)), 4);
    else append_le(out, std::bit_cast<std::uint64_t>(v), 8);
  }
  return out;
}

void write_npy(const std::filesystem::path& path, const Array& a) {
  AtomicFile file(path);
  file.write(write_npy_bytes(a));
  file.commit();
}

Matrix to_matrix(const Array& a, std::string_view origin) {
  Matrix m;
  if (a.shape.empty()) m.shape = {1, 1};
  else if (a.shape.size() == 1) m.shape = {1, a.shape[0]};
  else if (a.shape.size() == 2) m.shape = {a.shape[0], a.shape[1]};
  else
    throw InputError(fmt::format("{}: array has {} dimensions, a matrix needs at most 2", origin, a.shape.size()));
  m.values = a.values;
  return m;
}

Array to_array(const Matrix& m, DType dtype) {
  Array a;
  a.shape = {m.shape.rows, m.shape.cols};
  a.dtype = dtype;
  a.descr = dtype == DType::f32 ? "<f4" : "<f8";
  a.values = m.values;
  return a;
}

}  // namespace dagrad::io
