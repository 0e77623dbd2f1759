// A private temporary folder (mkdtemp, mode 0700), removed with everything
// in it when the object goes: where the studio hands text to a library call
// that reads a file (an uploaded CSV) or runs a program that writes one
// (Graphviz's SVG).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "dagrad/graph/error.hpp"

namespace dagrad::studio {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dagrad-studio-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw InputError("cannot make a temporary folder");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace dagrad::studio
