// Crash isolation for code we cannot trust with corrupt input (libhdf5 1.10.8
// segfaults on some files that carry a valid signature): run the work in a
// forked child, stream its result back over a pipe, and turn a crash, a
// non-zero exit or a hang into an InputError naming the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dagrad::io {

struct ChildTask {
  std::string origin;      // the file, first in every message
  std::string crash_what;  // e.g. "libhdf5 crashed while reading the file (corrupt HDF5)"
  std::chrono::milliseconds limit{60'000};  // then SIGKILL: a hang is an error too
};

// Runs `work` in a forked child and returns the bytes it produced. A
// dagrad::Error thrown by `work` comes back as an InputError with the same
// message; a child killed by a signal, exiting non-zero or with a truncated
// reply becomes "<origin>: <crash_what> (...)"; past `limit` the child is
// killed and the error says so. The parent never runs `work` itself.
std::vector<std::uint8_t> run_in_child(const ChildTask& task,
                                       const std::function<std::vector<std::uint8_t>()>& work);

}  // namespace dagrad::io
