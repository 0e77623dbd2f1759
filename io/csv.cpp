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

double parse_field(std::string_view field, std::string_view origin, std::size_t line, std::size_t column) {
  const std::string_view f = trim(field);
  if (f.empty())
    throw InputError(fmt::format("{}:{}: field {} is empty", origin, line, column));
  double v = 0;
  // from_chars rejects a leading '+', which strtod and Python accept.
  const std::string_view digits = f.front() == '+' ? f.substr(1) : f;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc::result_out_of_range)
    throw InputError(fmt::format("{}:{}: field {} '{}' is out of the range of a double", origin, line, column, f));
  if (ec != std::errc() || p != digits.data() + digits.size())
    throw InputError(fmt::format("{}:{}: field {} '{}' is not a number", origin, line, column,
                                 f.substr(0, 40)));
  return v;
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

}  // namespace

Matrix parse_csv(std::string_view text, std::string_view origin) {
  // Blank trailing lines are not data; a blank line before them is an error.
  while (!text.empty()) {
    const std::size_t nl = text.find_last_of('\n');
    if (!trim(nl == std::string_view::npos ? text : text.substr(nl + 1)).empty()) break;
    text = nl == std::string_view::npos ? std::string_view() : text.substr(0, nl);
  }
  if (text.empty()) throw InputError(fmt::format("{}: the file is empty", origin));
  Matrix m;
  std::size_t line_no = 0, rows = 0, cols = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (trim(line).empty()) throw InputError(fmt::format("{}:{}: empty line", origin, line_no));
    const std::size_t n = parse_line(line, origin, line_no, m.values);
    if (rows > 0 && n != cols)
      throw InputError(fmt::format("{}:{}: {} fields, but line 1 has {}", origin, line_no, n, cols));
    cols = n;
    ++rows;
  }
  m.shape = {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)};
  return m;
}

Matrix read_csv(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  return parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

}  // namespace dagrad::io
