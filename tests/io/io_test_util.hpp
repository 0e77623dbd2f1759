// Helpers shared by the io tests: a scratch directory, raw file bytes, and
// /usr/bin/python3 + numpy for cross-checks (without it a test skips, or fails
// under CI=true: tests/support/dependency.hpp).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "dagrad/graph/error.hpp"

namespace dagrad::io::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dagrad-io-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::vector<std::uint8_t> file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void put_bytes(const std::filesystem::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

inline void put_text(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

inline bool have_numpy() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
  return ok;
}

// Runs `script` with /usr/bin/python3 in `dir`; true when it exits 0.
inline bool run_python(const std::filesystem::path& dir, const std::string& script) {
  const auto file = dir / "script.py";
  put_text(file, script);
  const std::string cmd = "cd '" + dir.string() + "' && /usr/bin/python3 '" + file.string() + "'";
  return std::system(cmd.c_str()) == 0;
}

// How many temp files dagrad left in `dir`: "<name>.tmp-*" beside a target,
// and "dagrad-*" (its scratch files and the staging files of device outputs,
// made in TMPDIR, which tests/robustness/cli_run.hpp points at `dir`).
inline int temp_files_in(const std::filesystem::path& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos || name.starts_with("dagrad-")) ++n;
  }
  return n;
}

}  // namespace dagrad::io::test

// Both the type and a fragment of the message (usually the file name).
#define CHECK_INPUT_ERROR(expr, text)                  \
  do {                                                 \
    CHECK_THROWS_AS(expr, dagrad::InputError);         \
    CHECK_THROWS_WITH(expr, Catch::Contains(text));    \
  } while (0)
