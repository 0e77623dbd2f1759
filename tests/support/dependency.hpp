// A check that needs an optional dependency the machine lacks (numpy,
// libonnx, oneDNN, MPI, Graphviz, rsvg-convert) skips with a warning on a
// developer's machine. Under CI=true it fails instead: CI installs every one
// of them (scripts/setup-debian.sh), so a skip there means a broken setup
// that would otherwise pass silently. The caller returns after the call.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace dagrad::support {

inline bool under_ci() {
  const char* v = std::getenv("CI");
  return v && (std::string(v) == "true" || std::string(v) == "TRUE" || std::string(v) == "1");
}

// `missing` names the dependency and its Debian package, `unchecked` what
// is not checked without it.
inline void missing_dependency(const std::string& missing, const std::string& unchecked) {
  if (under_ci())
    FAIL("CI=true, and " << missing << " is missing: " << unchecked
                         << " cannot run (scripts/setup-debian.sh installs it)");
  WARN(missing << " is missing: " << unchecked << " skipped");
}

}  // namespace dagrad::support
