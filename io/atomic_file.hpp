// Crash-safe file output. Every writer in dagrad goes through AtomicFile: bytes
// go to `<target>.tmp-XXXXXX` in the target's directory, and commit() flushes,
// fsyncs and renames it over the target, so a reader (or a crash at any moment)
// sees either the old file or the complete new one, never a half-written file.
//
// What the target is decides how it is written:
//   a regular file, or nothing yet   temp file beside it, renamed over it;
//   a symbolic link                  the same, beside the file the link names:
//                                    the link stays a link;
//   a character device or a FIFO     (/dev/null, /dev/stdout, a pipe) opened
//                                    at once without waiting (a FIFO with no
//                                    reader is refused: dagrad never waits
//                                    for one), written in place at commit,
//                                    never replaced;
//   a directory, a block device,     refused with an InputError naming it.
//   a socket
// Until commit() a device or FIFO target gets nothing: its bytes wait in a
// temp file under $TMPDIR.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace dagrad::io {

// A file under $TMPDIR (or /tmp) that is removed when this object dies, or
// when the process is stopped by a signal (see remove_temp_files_on_signals).
// For scratch files handed to other programs (rsvg-convert, dot).
class TempFile {
 public:
  // `suffix` ends the name (".svg"), for programs that look at it.
  explicit TempFile(std::string_view suffix = "");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(std::span<const std::uint8_t> bytes);
  void write(std::string_view text);
  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  int slot_ = -1;
};

class AtomicFile {
 public:
  // Creates the temporary file now, so an unwritable or missing directory is an
  // InputError naming `target` before the caller computes anything to write.
  explicit AtomicFile(std::filesystem::path target);
  // Without commit(), removes the temporary file and leaves the target untouched.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::span<const std::uint8_t> bytes);
  void write(std::string_view text);
  // Regular file: flush + fsync + rename over the target + fsync of the
  // directory. Device or FIFO: the bytes are written into it.
  void commit();

  const std::filesystem::path& target() const { return target_; }
  // For libraries that insist on opening a path themselves (libhdf5): they may
  // write to temp_path(); commit() still fsyncs and renames (or copies) it.
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  void commit_in_place();

  std::filesystem::path target_;  // as given, for messages
  std::filesystem::path dest_;    // the file that gets replaced: symlinks resolved
  std::filesystem::path temp_;
  int fd_ = -1;
  int slot_ = -1;                 // in the table of temp files removed on a signal
  int stream_fd_ = -1;            // the open device or FIFO, when in place
  bool in_place_ = false;         // a character device or a FIFO
  bool committed_ = false;
};

// The file a chain of symbolic links at `path` ends at, by name; it may not
// exist yet (a dangling link). `path` itself when it is not a link.
std::filesystem::path resolve_symlinks(const std::filesystem::path& path);

// Opens an output that is a FIFO or a character device now, without
// waiting (a FIFO with no reader is an InputError naming `path`), and keeps
// it open until the process ends; an AtomicFile on the same file later
// writes into this open file. For checks made before the work (cli/outputs):
// opening and closing a FIFO there would end its reader's input. A regular
// or missing file is left alone.
void hold_stream_output(const std::filesystem::path& path);

// Installs handlers for SIGINT, SIGTERM and SIGHUP that kill every running
// child (io::kill_children: a renderer writing into a temp file) and remove
// every live temp file of AtomicFile and TempFile, then end the process by the same
// signal (so the shell sees the conventional 128 + N). The CLI calls it
// once; a library user who wants it calls it too.
void remove_temp_files_on_signals();

}  // namespace dagrad::io
