#include "dagrad/io/csv.hpp"

#include <charconv>

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

}  // namespace dagrad::io
