// Crash-safe file output. Every writer in dagrad goes through AtomicFile: bytes
// go to `<target>.tmp-XXXXXX` in the target's directory, and commit() flushes,
// fsyncs and renames it over the target, so a reader (or a crash at any moment)
// sees either the old file or the complete new one, never a half-written file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace dagrad::io {

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
  // flush + fsync + rename over the target + fsync of the directory.
  void commit();

  const std::filesystem::path& target() const { return target_; }
  // For libraries that insist on opening a path themselves (libhdf5): they may
  // write to temp_path(); commit() still fsyncs and renames it.
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace dagrad::io
