#include "dagrad/io/csv.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/read_file.hpp"

namespace dagrad::io {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A field as a spreadsheet may write it: "1.5" in double quotes.
std::string_view unquote(std::string_view f) {
  f = trim(f);
  if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = trim(f.substr(1, f.size() - 2));
  return f;
}

// The number in a field, or false. from_chars rejects a leading '+', which
// strtod and Python accept.
bool to_number(std::string_view f, double& v, std::errc& ec) {
  const std::string_view digits = f.starts_with('+') ? f.substr(1) : f;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  ec = r.ec;
  return !f.empty() && r.ec == std::errc() && r.ptr == digits.data() + digits.size();
}

double parse_field(std::string_view field, std::string_view origin, std::size_t line, std::size_t column) {
  const std::string_view f = unquote(field);
  if (f.empty())
    throw InputError(fmt::format("{}:{}: field {} is empty", origin, line, column));
  double v = 0;
  std::errc ec{};
  if (to_number(f, v, ec)) return v;
  if (ec == std::errc::result_out_of_range)
    throw InputError(fmt::format("{}:{}: field {} '{}' is out of the range of a double", origin, line, column,
                                 excerpt(f)));
  throw InputError(fmt::format("{}:{}: field {} '{}' is not a number", origin, line, column, excerpt(f)));
}

// Appends the fields of one line; returns how many there were.
std::size_t parse_line(std::string_view line, std::string_view origin, std::size_t line_no,
                       std::vector<double>& out) {
  std::size_t column = 0;
  while (true) {
    const std::size_t comma = line.find(',');
    out.push_back(parse_field(line.substr(0, comma), origin, line_no, ++column));
    if (comma == std::string_view::npos) return column;
    line.remove_prefix(comma + 1);
  }
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t comma = line.find(',');
    out.push_back(unquote(line.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    line.remove_prefix(comma + 1);
  }
}

bool all_numbers(const std::vector<std::string_view>& fields) {
  double v = 0;
  std::errc ec{};
  for (std::string_view f : fields)
    if (!to_number(f, v, ec)) return false;
  return true;
}

// The lines of the text: split at "\n" (a "\r" before it is trimmed with the
// field), or at "\r" alone in a file that has no "\n" (old Mac spreadsheets).
std::vector<std::string_view> lines_of(std::string_view text) {
  const char sep = text.find('\n') == std::string_view::npos && text.find('\r') != std::string_view::npos ? '\r' : '\n';
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t nl = text.find(sep);
    lines.push_back(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  // Blank trailing lines are not data; a blank line before them is an error.
  while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
  return lines;
}

std::string_view without_bom(std::string_view text, std::string_view origin) {
  if (text.starts_with("\xEF\xBB\xBF")) return text.substr(3);
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF"))
    throw InputError(fmt::format("{}: the file is UTF-16 text; save it as UTF-8 (or plain ASCII) CSV", origin));
  return text;
}

// The 1-based field of `line` that holds byte `at`, and that field's text.
std::pair<std::size_t, std::string_view> field_at(std::string_view line, std::size_t at) {
  const std::size_t start = line.rfind(',', at) == std::string_view::npos ? 0 : line.rfind(',', at) + 1;
  const std::size_t n = 1 + static_cast<std::size_t>(std::count(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(at), ','));
  return {n, line.substr(start, line.find(',', at) - start)};
}

// A NUL byte is refused on every line, header included: a CSV file is text,
// and a NUL is the sign of a binary file (or UTF-16 without its mark).
void check_no_nul(std::string_view line, std::string_view origin, std::size_t line_no) {
  const std::size_t at = line.find('\0');
  if (at == std::string_view::npos) return;
  const auto [field, text] = field_at(line, at);
  throw InputError(fmt::format("{}:{}: field {} '{}' holds a NUL byte; a CSV file is text (is this a binary file?)",
                               origin, line_no, field, excerpt(text)));
}

// A header names its columns in text: a control byte (an escape, a bell) or
// a byte-order mark inside it means line 1 is damaged, not a header.
void check_header_bytes(std::string_view line, std::string_view origin) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool control = (c < 0x20 && c != '\t' && c != '\r') || c == 0x7F;
    const bool bom = line.substr(i).starts_with("\xEF\xBB\xBF");
    if (!control && !bom) continue;
    const auto [field, text] = field_at(line, i);
    throw InputError(fmt::format("{}:1: field {} '{}' holds {}; line 1 is neither a header (names in text) nor "
                                 "data (numbers): fix or remove it",
                                 origin, field, excerpt(text),
                                 bom ? "a byte-order mark (the file has two?)" : fmt::format("the control byte 0x{:02x}", c)));
  }
}

// Line 1 is a header when every field is a name (not a number) and line 2
// is all numbers with as many fields; the reader says so in a note
// (Dataset::notes). A line 1 that mixes names and numbers, or holds a
// control byte or a second byte-order mark, is an error rather than a
// header: a first data line with one garbled field would otherwise be
// dropped without a word.
bool is_header(const std::vector<std::string_view>& lines, std::string_view origin) {
  if (lines.size() < 2) return false;
  const auto first = fields_of(lines[0]), second = fields_of(lines[1]);
  if (all_numbers(first) || first.size() != second.size() || !all_numbers(second)) return false;
  check_header_bytes(lines[0], origin);
  double v = 0;
  std::errc ec{};
  for (std::size_t k = 0; k < first.size(); ++k)
    if (to_number(first[k], v, ec)) {
      std::size_t name = 0;
      while (to_number(first[name], v, ec)) ++name;
      throw InputError(fmt::format("{}:1: field {} '{}' is a number but field {} '{}' is not: line 1 is neither "
                                   "a header (all names) nor data (all numbers); fix or remove it",
                                   origin, k + 1, excerpt(first[k]), name + 1, excerpt(first[name])));
    }
  return true;
}

}  // namespace

CsvTable parse_csv_table(std::string_view text, std::string_view origin) {
  const std::vector<std::string_view> lines = lines_of(without_bom(text, origin));
  if (lines.empty()) throw InputError(fmt::format("{}: the file is empty", origin));
  CsvTable t;
  std::size_t first = 0;
  for (std::size_t k = 0; k < lines.size(); ++k) check_no_nul(lines[k], origin, k + 1);
  if (is_header(lines, origin)) {
    for (std::string_view f : fields_of(lines[0])) t.header.emplace_back(f);
    first = 1;
  }
  std::size_t rows = 0, cols = 0;
  for (std::size_t k = first; k < lines.size(); ++k) {
    const std::size_t line_no = k + 1;
    if (trim(lines[k]).empty()) throw InputError(fmt::format("{}:{}: empty line", origin, line_no));
    const std::size_t n = parse_line(lines[k], origin, line_no, t.values.values);
    if (rows > 0 && n != cols)
      throw InputError(fmt::format("{}:{}: {} fields, but line {} has {}", origin, line_no, n, first + 1, cols));
    cols = n;
    ++rows;
  }
  t.values.shape = {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)};
  return t;
}

CsvTable read_csv_table(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  return parse_csv_table(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                         path.string());
}

Matrix parse_csv(std::string_view text, std::string_view origin) {
  return parse_csv_table(text, origin).values;
}

Matrix read_csv(const std::filesystem::path& path) { return read_csv_table(path).values; }

namespace {

// The lines of a file, read in blocks: each is valid until the next call.
// Lines end at `sep`, as lines_of splits them; the byte-order mark goes.
class LineStream {
 public:
  explicit LineStream(const std::filesystem::path& path) : path_(path), fd_(open_regular_file(path)) {
    fill();
    const std::string_view head(buf_.data(), end_);
    if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF")) {
      ::close(fd_);
      throw InputError(fmt::format("{}: the file is UTF-16 text; save it as UTF-8 (or plain ASCII) CSV",
                                   path.string()));
    }
    if (head.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }
  ~LineStream() { ::close(fd_); }
  LineStream(const LineStream&) = delete;
  LineStream& operator=(const LineStream&) = delete;

  // Whether the file splits at "\r" (no "\n" anywhere, as lines_of decides);
  // reads the rest of the file only when the first block has no "\n".
  char separator() {
    if (std::string_view(buf_.data(), end_).find('\n') != std::string_view::npos) return '\n';
    bool cr = false;
    for (LineStream all(path_);;) {
      const std::string_view block(all.buf_.data(), all.end_);
      if (block.find('\n') != std::string_view::npos) return '\n';
      cr = cr || block.find('\r') != std::string_view::npos;
      if (all.end_ == 0) return cr ? '\r' : '\n';
      all.fill();
    }
  }

  bool next(std::string_view& line, char sep) {
    carry_.clear();
    for (;;) {
      const std::string_view rest(buf_.data() + pos_, end_ - pos_);
      const std::size_t at = rest.find(sep);
      if (at != std::string_view::npos) {
        pos_ += at + 1;
        if (carry_.empty()) {
          line = rest.substr(0, at);
          return true;
        }
        carry_.append(rest.substr(0, at));
        line = carry_;
        return true;
      }
      carry_.append(rest);
      if (!fill()) {
        line = carry_;
        return !carry_.empty();
      }
    }
  }

 private:
  bool fill() {
    pos_ = 0;
    end_ = 0;
    for (;;) {
      const ssize_t n = ::read(fd_, buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw InputError(fmt::format("{}: cannot read: {}", path_.string(), std::strerror(errno)));
      end_ = static_cast<std::size_t>(n);
      return n > 0;
    }
  }

  std::filesystem::path path_;
  int fd_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  std::size_t pos_ = 0, end_ = 0;
  std::string carry_;
};

}  // namespace

CsvPart read_csv_part(const std::filesystem::path& path, std::int64_t part, std::int64_t parts) {
  const std::string origin = path.string();
  // Pass 1: the first two lines (for the header rule) and the last line
  // that is not blank.
  std::string first_lines[2];
  std::int64_t lines = 0, last = -1;
  char sep = '\n';
  {
    LineStream in(path);
    sep = in.separator();
    for (std::string_view line; in.next(line, sep); ++lines) {
      check_no_nul(line, origin, static_cast<std::size_t>(lines) + 1);
      if (lines < 2) first_lines[lines] = std::string(line);
      if (!trim(line).empty()) last = lines;
    }
  }
  if (last < 0) throw InputError(fmt::format("{}: the file is empty", origin));
  const std::vector<std::string_view> head(first_lines, first_lines + std::min<std::int64_t>(last + 1, 2));
  CsvPart out;
  const std::int64_t header = is_header(head, origin) ? 1 : 0;
  if (header)
    for (std::string_view f : fields_of(head[0])) out.table.header.emplace_back(f);
  out.total = last + 1 - header;
  out.first = out.total * part / parts;
  const std::int64_t end = out.total * (part + 1) / parts;
  // The field count every line must have: the first data line's.
  std::vector<double> scratch;
  const std::size_t cols = parse_line(first_lines[header], origin, static_cast<std::size_t>(header) + 1, scratch);
  // Pass 2: the part's lines only.
  LineStream in(path);
  std::int64_t index = 0, rows = 0;
  for (std::string_view line; index < header + end && in.next(line, sep); ++index) {
    if (index < header + out.first) continue;
    const auto line_no = static_cast<std::size_t>(index) + 1;
    if (trim(line).empty()) throw InputError(fmt::format("{}:{}: empty line", origin, line_no));
    const std::size_t n = parse_line(line, origin, line_no, out.table.values.values);
    if (n != cols)
      throw InputError(fmt::format("{}:{}: {} fields, but line {} has {}", origin, line_no, n, header + 1, cols));
    ++rows;
  }
  out.table.values.shape = {rows, static_cast<std::int64_t>(cols)};
  return out;
}

struct CsvStream::Lines {
  explicit Lines(const std::filesystem::path& path) : stream(path) {}
  LineStream stream;
};

CsvStream::CsvStream(const std::filesystem::path& path)
    : in_(std::make_unique<Lines>(path)), origin_(path.string()) {
  sep_ = in_->stream.separator();
  // The first two lines decide the header; blank lines after them are read
  // on to the next line that is not (or the end), so that trailing blank
  // lines are told from a blank line in the middle.
  std::string_view line;
  while (pending_.size() < 2 || trim(pending_.back()).empty()) {
    if (!in_->stream.next(line, sep_)) break;
    check_no_nul(line, origin_, pending_.size() + 1);
    pending_.emplace_back(line);
  }
  std::size_t last = pending_.size();
  while (last > 0 && trim(pending_[last - 1]).empty()) --last;
  if (last == 0) throw InputError(fmt::format("{}: the file is empty", origin_));
  const std::vector<std::string_view> head(pending_.begin(),
                                           pending_.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(last, 2)));
  if (is_header(head, origin_)) {
    for (std::string_view f : fields_of(head[0])) header_.emplace_back(f);
    next_pending_ = 1;
    line_no_ = 1;
  }
  for (std::size_t k = next_pending_; k < last && fields_ == 0; ++k) {
    if (trim(pending_[k]).empty()) continue;
    std::vector<double> scratch;
    fields_ = parse_line(pending_[k], origin_, k + 1, scratch);
  }
}

CsvStream::~CsvStream() = default;

std::int64_t CsvStream::read(std::int64_t max_rows, std::vector<double>& out) {
  out.clear();
  std::int64_t rows = 0;
  std::string_view line;
  while (rows < max_rows) {
    if (next_pending_ < pending_.size()) line = pending_[next_pending_++];
    else if (!in_->stream.next(line, sep_)) break;
    ++line_no_;
    if (line_no_ > pending_.size()) check_no_nul(line, origin_, line_no_);
    // A blank line is an error unless only blank lines follow it.
    if (trim(line).empty()) {
      if (blank_ == 0) blank_ = line_no_;
      continue;
    }
    if (blank_ != 0) throw InputError(fmt::format("{}:{}: empty line", origin_, blank_));
    const std::size_t n = parse_line(line, origin_, line_no_, out);
    if (n != fields_)
      throw InputError(fmt::format("{}:{}: {} fields, but line {} has {}", origin_, line_no_, n,
                                   header_.empty() ? 1 : 2, fields_));
    ++rows;
  }
  return rows;
}

}  // namespace dagrad::io
