#include "dagrad/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& target, std::string_view what) {
  throw InputError(
      fmt::format("{}: cannot {}: {}", target.string(), what, std::strerror(errno)));
}

// fsync of the directory makes the rename itself durable (POSIX leaves the
// directory entry in the page cache otherwise).
void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: the data itself is already on disk
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  std::string pattern = target_.string() + ".tmp-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) fail(target_, "create a file in its directory");
  temp_ = name.data();
  // mkstemp makes 0600; a data file is 0666 less the umask, like fopen's.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::span<const std::uint8_t> bytes) {
  if (fd_ < 0) throw InputError(fmt::format("{}: write after commit", target_.string()));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(target_, "write");
    done += static_cast<std::size_t>(n);
  }
}

void AtomicFile::write(std::string_view text) {
  write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void AtomicFile::commit() {
  if (fd_ < 0) throw InputError(fmt::format("{}: committed twice", target_.string()));
  if (::fsync(fd_) != 0) fail(target_, "fsync");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(target_, "close");
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail(target_, "rename the temporary file over");
  committed_ = true;
  sync_directory(target_.parent_path());
}

}  // namespace dagrad::io
