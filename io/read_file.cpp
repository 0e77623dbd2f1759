#include "dagrad/io/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/limits.hpp"

namespace dagrad::io {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void not_regular(const std::filesystem::path& path, mode_t mode) {
  throw InputError(fmt::format("{}: is {}, not a regular file; dagrad reads data only from regular files",
                               path.string(), kind_of(mode)));
}

[[noreturn]] void cannot(const std::filesystem::path& path, std::string_view what) {
  throw InputError(fmt::format("{}: cannot {}: {}", path.string(), what, std::strerror(errno)));
}

// Closes the descriptor on every path out of read_file_bytes.
struct Fd {
  int fd;
  ~Fd() { ::close(fd); }
};

}  // namespace

void require_regular_file(const std::filesystem::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) cannot(path, "open");
  if (!S_ISREG(st.st_mode)) not_regular(path, st.st_mode);
}

int open_regular_file(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) cannot(path, "open");
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    if (!S_ISREG(st.st_mode) && st.st_mode != 0) not_regular(path, st.st_mode);
    cannot(path, "stat");
  }
  return fd;
}

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path) {
  const Fd f{open_regular_file(path)};
  struct stat st{};
  if (::fstat(f.fd, &st) != 0) cannot(path, "stat");
  check_memory(static_cast<std::uint64_t>(st.st_size), fmt::format("{}: reading the file", path.string()));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(f.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) cannot(path, "read");
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace dagrad::io
