// Comma-separated numbers without a header: one record per line, as the course
// CSVs are written (one sample per row, features then optionally the label).
#pragma once

#include <filesystem>
#include <string_view>

#include "dagrad/io/matrix.hpp"

namespace dagrad::io {

// Returns (lines x fields) exactly as laid out in the text. Errors name
// `origin` and the 1-based line: ragged rows, non-numeric or empty fields,
// no data at all. Blank lines at the end are ignored; "\r\n" is accepted.
Matrix parse_csv(std::string_view text, std::string_view origin);
Matrix read_csv(const std::filesystem::path& path);

}  // namespace dagrad::io
