// Comma-separated numbers, one record per line, as the course CSVs are written
// (one sample per row, features then optionally the label) and as people
// write them from a spreadsheet or pandas: an optional header row, "\r\n" or
// "\r" line ends, a UTF-8 byte-order mark, fields in double quotes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dagrad/io/matrix.hpp"

namespace dagrad::io {

struct CsvTable {
  Matrix values;                    // data lines x fields
  std::vector<std::string> header;  // the header row's names; empty without one
};

// Line 1 is a header when every field is a name (not a number) and line 2 is
// all numbers with as many fields; a line 1 that mixes names and numbers, or
// whose names hold a control byte or a second byte-order mark, is an error
// (a garbled first data line is never dropped as a header). Errors name
// `origin` and the 1-based line of the file: a NUL byte on any line, ragged
// rows, non-numeric or empty fields, no data at all, a UTF-16 file. Blank lines at the end are ignored. Bytes quoted from the file
// in a message are escaped (dagrad::printable).
CsvTable parse_csv_table(std::string_view text, std::string_view origin);
CsvTable read_csv_table(const std::filesystem::path& path);

// The values alone, header dropped.
Matrix parse_csv(std::string_view text, std::string_view origin);
Matrix read_csv(const std::filesystem::path& path);

// One process's part of a CSV file of M data lines: the lines
// [part M / parts, (part + 1) M / parts) after the header, as
// read_csv_table would parse them (the same header rule, the same errors
// with the file's line numbers, a line's field count checked against the
// first data line). The file is streamed twice, once to count its lines
// and once to parse the part; it is never held whole.
struct CsvPart {
  CsvTable table;          // the part's lines x fields, and the file's header
  std::int64_t first = 0;  // the index of the part's first data line
  std::int64_t total = 0;  // M
};
CsvPart read_csv_part(const std::filesystem::path& path, std::int64_t part, std::int64_t parts);

// A CSV file's data lines read in blocks, for files of any size: one
// block's values are held at a time, never the file. The same header rule,
// line ends, byte-order mark and errors (with the file's line numbers) as
// read_csv_table; every line must have the first data line's field count.
class CsvStream {
 public:
  explicit CsvStream(const std::filesystem::path& path);
  ~CsvStream();
  CsvStream(const CsvStream&) = delete;
  CsvStream& operator=(const CsvStream&) = delete;
  const std::vector<std::string>& header() const { return header_; }
  std::int64_t fields() const { return static_cast<std::int64_t>(fields_); }
  // Replaces `out` with the values of up to `max_rows` more data lines
  // (row-major, fields() per line) and returns how many lines; 0 at the end.
  // `out` keeps its capacity, so a loop over a file allocates once.
  std::int64_t read(std::int64_t max_rows, std::vector<double>& out);

 private:
  struct Lines;
  std::unique_ptr<Lines> in_;
  std::string origin_;
  std::vector<std::string> header_;
  std::vector<std::string> pending_;  // the first lines, read for the header rule
  std::size_t next_pending_ = 0, fields_ = 0, line_no_ = 0, blank_ = 0;
  char sep_ = '\n';
};

}  // namespace dagrad::io
