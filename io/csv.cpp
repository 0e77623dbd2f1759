#include "dagrad/io/csv.hpp"

#include <unistd.h>

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
                                 f.substr(0, 40)));
  throw InputError(fmt::format("{}:{}: field {} '{}' is not a number", origin, line, column, f.substr(0, 40)));
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

// Line 1 is a header when it has a non-number and line 2 is all numbers with
// as many fields.
bool is_header(const std::vector<std::string_view>& lines) {
  if (lines.size() < 2) return false;
  const auto first = fields_of(lines[0]), second = fields_of(lines[1]);
  return !all_numbers(first) && first.size() == second.size() && all_numbers(second);
}

}  // namespace

CsvTable parse_csv_table(std::string_view text, std::string_view origin) {
  const std::vector<std::string_view> lines = lines_of(without_bom(text, origin));
  if (lines.empty()) throw InputError(fmt::format("{}: the file is empty", origin));
  CsvTable t;
  std::size_t first = 0;
  if (is_header(lines)) {
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
      if (lines < 2) first_lines[lines] = std::string(line);
      if (!trim(line).empty()) last = lines;
    }
  }
  if (last < 0) throw InputError(fmt::format("{}: the file is empty", origin));
  const std::vector<std::string_view> head(first_lines, first_lines + std::min<std::int64_t>(last + 1, 2));
  CsvPart out;
  const std::int64_t header = is_header(head) ? 1 : 0;
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

}  // namespace dagrad::io
