// Child processes, all started here:
//   - crash isolation for code we cannot trust with corrupt input (libhdf5
//     1.10.8 segfaults on some files that carry a valid signature): run the
//     work in a forked child, stream its result back over a pipe, and turn a
//     crash, a non-zero exit or a hang into an InputError naming the file;
//   - other programs (Graphviz's dot, rsvg-convert), run by run_program.
// Every child dies with dagrad: it gets SIGKILL when dagrad ends
// (PR_SET_PDEATHSIG), and the handler of remove_temp_files_on_signals kills
// and reaps it before it removes the temp files, so no child writes a file
// (g.png.tmp-*) after dagrad is gone.
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

// A program's exit status (as waitpid gives it) and the first 600 bytes it
// wrote to stderr.
struct ProgramResult {
  int status = 0;
  std::string err;
  bool ok() const;  // exited with status 0
};

// Runs argv[0] (a path; no shell, so no quoting) with stdin and stdout on
// /dev/null and waits for it. InputError naming argv[0] when it cannot start.
ProgramResult run_program(const std::vector<std::string>& argv);

// Async-signal-safe: SIGKILLs and reaps every child still running. The
// signal handler of remove_temp_files_on_signals calls it first.
void kill_children() noexcept;

}  // namespace dagrad::io
