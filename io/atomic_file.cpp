#include "dagrad/io/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/child_process.hpp"

namespace dagrad::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& target, std::string_view what) {
  throw InputError(
      fmt::format("{}: cannot {}: {}", target.string(), what, std::strerror(errno)));
}

// ---- temp files removed on a signal --------------------------------------------
//
// A fixed table, so the handler touches no heap and calls only unlink(2),
// which is async-signal-safe. Slots change only with the three signals
// blocked, so the handler never sees a half-written path.

constexpr int max_live = 64;
struct Slot {
  volatile sig_atomic_t used;
  char path[PATH_MAX];
};
Slot g_slots[max_live];
constexpr int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};

class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : cleanup_signals) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &saved_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

// -1 when the table is full or the path too long: the file is then still
// removed by its owner, only not on a signal.
int register_temp(const std::filesystem::path& p) {
  const std::string& s = p.native();
  if (s.size() >= PATH_MAX) return -1;
  const SignalsBlocked blocked;
  for (int i = 0; i < max_live; ++i)
    if (!g_slots[i].used) {
      std::memcpy(g_slots[i].path, s.c_str(), s.size() + 1);
      g_slots[i].used = 1;
      return i;
    }
  return -1;
}

void unregister_temp(int slot) {
  if (slot < 0) return;
  const SignalsBlocked blocked;
  g_slots[slot].used = 0;
}

extern "C" void remove_temps_and_die(int sig) {
  // Children first: a Graphviz still rendering would write its file after
  // the temp files are gone (io/child_process.hpp).
  kill_children();
  for (Slot& s : g_slots)
    if (s.used) ::unlink(s.path);
  // SA_RESETHAND put the default action back; SA_NODEFER lets it act now.
  ::raise(sig);
}

// ---- helpers ----------------------------------------------------------------------

// fsync of the directory makes the rename itself durable (POSIX leaves the
// directory entry in the page cache otherwise).
void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data itself is already on disk
  ::fsync(fd);
  ::close(fd);
}

void write_all(int fd, std::span<const std::uint8_t> bytes, const std::filesystem::path& target) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(target, "write");
    done += static_cast<std::size_t>(n);
  }
}

// mkstemp on `pattern` (which ends in XXXXXX); the path it made.
int make_temp(std::string pattern, std::filesystem::path& made) {
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd >= 0) made = name.data();
  return fd;
}

const char* refused_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return nullptr;
}

// ---- streams: FIFOs and character devices -----------------------------------------
//
// open(2) of a FIFO for writing waits until a reader opens it: with no
// reader, forever. dagrad opens with O_NONBLOCK instead, which fails at once
// (ENXIO) when no reader is there, and refuses the path; once open, writes
// block again as to any pipe. Held streams stay open until the process ends,
// so a check made before the work and the write after it share one open.

struct HeldStream {
  dev_t dev;
  ino_t ino;
  int fd;
};
std::mutex g_held_mutex;
std::vector<HeldStream> g_held;

int held_stream(const struct stat& st) {
  const std::lock_guard lock(g_held_mutex);
  for (const HeldStream& h : g_held)
    if (h.dev == st.st_dev && h.ino == st.st_ino) return h.fd;
  return -1;
}

// A new descriptor for the stream at `target`, open for writing, blocking.
int open_stream(const std::filesystem::path& target, const struct stat& st) {
  if (const int held = held_stream(st); held >= 0) {
    const int fd = ::fcntl(held, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) fail(target, "open");
    return fd;
  }
  const int fd = ::open(target.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENXIO && S_ISFIFO(st.st_mode))
    throw InputError(fmt::format("{}: is a FIFO (named pipe) with no reader, and dagrad would wait for one "
                                 "forever; start its reader first, or give a regular file",
                                 target.string()));
  if (fd < 0) fail(target, "open");
  if (const int flags = ::fcntl(fd, F_GETFL); flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

}  // namespace

void hold_stream_output(const std::filesystem::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) return;
  if (held_stream(st) >= 0) return;
  const int fd = open_stream(path, st);
  const std::lock_guard lock(g_held_mutex);
  g_held.push_back({st.st_dev, st.st_ino, fd});
}

// ---- TempFile -----------------------------------------------------------------------

TempFile::TempFile(std::string_view suffix) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  const std::string pattern = (dir / "dagrad-XXXXXX").string();
  const std::string with_suffix = pattern + std::string(suffix);
  std::vector<char> name(with_suffix.begin(), with_suffix.end());
  name.push_back('\0');
  fd_ = ::mkstemps(name.data(), static_cast<int>(suffix.size()));
  if (fd_ < 0) fail(dir, "create a temporary file");
  path_ = name.data();
  slot_ = register_temp(path_);
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
  unregister_temp(slot_);
}

void TempFile::write(std::span<const std::uint8_t> bytes) { write_all(fd_, bytes, path_); }
void TempFile::write(std::string_view text) {
  write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// ---- AtomicFile -----------------------------------------------------------------------

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  struct stat st{};
  const bool exists = ::stat(target_.c_str(), &st) == 0;  // follows links
  if (exists && refused_kind(st.st_mode))
    throw InputError(fmt::format("{}: is {}; give the path of a file to write", target_.string(),
                                 refused_kind(st.st_mode)));
  in_place_ = exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode));
  std::string pattern;
  if (in_place_) {
    stream_fd_ = open_stream(target_, st);  // never waits; no reader is refused now
    // The bytes wait under $TMPDIR; /dev is no place for a temp file.
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
    if (ec) dir = "/tmp";
    dest_ = target_;
    pattern = (dir / ("dagrad-" + target_.filename().string() + ".tmp-XXXXXX")).string();
  } else {
    dest_ = resolve_symlinks(target_);
    pattern = dest_.string() + ".tmp-XXXXXX";
  }
  fd_ = make_temp(pattern, temp_);
  if (fd_ < 0) {
    const int saved = errno;
    if (stream_fd_ >= 0) ::close(stream_fd_);
    errno = saved;
    fail(target_, "create a file in its directory");
  }
  slot_ = register_temp(temp_);
  // mkstemp makes 0600; a replaced file keeps its mode, a new one gets 0666
  // less the umask, like fopen's.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, exists && S_ISREG(st.st_mode) ? (st.st_mode & 07777) : (0666 & ~mask));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (stream_fd_ >= 0) ::close(stream_fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
  unregister_temp(slot_);
}

void AtomicFile::write(std::span<const std::uint8_t> bytes) {
  if (fd_ < 0) throw InputError(fmt::format("{}: write after commit", target_.string()));
  write_all(fd_, bytes, target_);
}

void AtomicFile::write(std::string_view text) {
  write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void AtomicFile::commit() {
  if (fd_ < 0) throw InputError(fmt::format("{}: committed twice", target_.string()));
  if (in_place_) return commit_in_place();
  if (::fsync(fd_) != 0) fail(target_, "fsync");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(target_, "close");
  if (::rename(temp_.c_str(), dest_.c_str()) != 0) fail(target_, "rename the temporary file over");
  committed_ = true;
  unregister_temp(slot_);
  slot_ = -1;
  sync_directory(dest_.parent_path());
}

// Copies the staged bytes into the device or FIFO. A reader that went away
// is a write error (EPIPE) for the message, not a SIGPIPE that ends dagrad
// without one.
void AtomicFile::commit_in_place() {
  const int out = stream_fd_;
  stream_fd_ = -1;
  struct sigaction ignore{}, saved{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &saved);
  std::vector<std::uint8_t> buffer(1 << 16);
  bool ok = ::lseek(fd_, 0, SEEK_SET) == 0;
  int error = errno;
  while (ok) {
    const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      error = errno;
      break;
    }
    try {
      write_all(out, std::span(buffer.data(), static_cast<std::size_t>(n)), target_);
    } catch (const InputError&) {
      ok = false;
      error = errno;
    }
  }
  ::sigaction(SIGPIPE, &saved, nullptr);
  ::close(out);
  errno = error;
  if (!ok) fail(target_, "write");
  committed_ = true;  // the temp is removed by the destructor all the same
  ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
}

std::filesystem::path resolve_symlinks(const std::filesystem::path& target) {
  std::filesystem::path p = target;
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    if (!std::filesystem::is_symlink(std::filesystem::symlink_status(p, ec))) return p;
    const std::filesystem::path next = std::filesystem::read_symlink(p, ec);
    if (ec) return p;
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
  errno = ELOOP;
  fail(target, "follow its symbolic links");
}

void remove_temp_files_on_signals() {
  struct sigaction sa{};
  sa.sa_handler = remove_temps_and_die;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int s : cleanup_signals) ::sigaction(s, &sa, nullptr);
}

}  // namespace dagrad::io
