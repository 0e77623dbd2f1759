#include "dagrad/io/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::io {
namespace {

// The child's reply: one tag byte ('O' result, 'E' error message), a
// little-endian u64 length, then that many bytes. Anything else, or nothing,
// means the child died before it finished.
constexpr std::size_t header_size = 9;

bool write_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

void send_reply(int fd, char tag, const std::uint8_t* data, std::size_t size) {
  std::uint8_t head[header_size] = {static_cast<std::uint8_t>(tag)};
  for (int i = 0; i < 8; ++i) head[1 + i] = static_cast<std::uint8_t>(std::uint64_t{size} >> (8 * i));
  const bool ok = write_all(fd, head, header_size) && write_all(fd, data, size);
  ::_exit(ok ? 0 : 3);
}

// In the child: run the work, send its reply and leave with _exit, so no
// atexit handler or static destructor of the parent's state runs twice.
// NOTE: the child's fatal signals get their default action back, and its
// stdout/stderr go to /dev/null: a handler inherited from the parent (a test
// framework's, a sanitizer's) would otherwise report the crash as the
// parent's own, and a crash report would bury the parent's one-line error.
// fuzz/fuzz_h5 runs the same reader in-process, where sanitizers do report.
[[noreturn]] void child_main(int fd, const std::function<std::vector<std::uint8_t>()>& work) {
  for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE}) ::signal(sig, SIG_DFL);
  if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
  }
  try {
    const std::vector<std::uint8_t> result = work();
    send_reply(fd, 'O', result.data(), result.size());
  } catch (const std::exception& e) {
    const std::string message = e.what();
    send_reply(fd, 'E', reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
  } catch (...) {
  }
  ::_exit(4);
}

// Reads the pipe until EOF or the deadline; false when the deadline passed.
bool read_until_eof(int fd, std::chrono::steady_clock::time_point deadline, std::vector<std::uint8_t>& out) {
  std::uint8_t buffer[1 << 16];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1'000'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // timeout slice: re-check the deadline
    const ssize_t r = ::read(fd, buffer, sizeof buffer);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return true;
    out.insert(out.end(), buffer, buffer + r);
  }
}

// waitpid that survives EINTR; -1 when the status cannot be had (SIGCHLD ignored).
int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

std::string how_it_died(int status) {
  if (status == -1) return "no exit status";
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}, {}", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  return fmt::format("exit status {}", WEXITSTATUS(status));
}

}  // namespace

std::vector<std::uint8_t> run_in_child(const ChildTask& task,
                                       const std::function<std::vector<std::uint8_t>()>& work) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw InputError(fmt::format("{}: cannot create a pipe: {}", task.origin, std::strerror(errno)));
  // NOTE: fork() in a multi-threaded process (OpenBLAS workers) copies only
  // this thread; glibc re-initialises malloc's locks in the child, and the
  // child touches nothing but the file and the pipe before _exit.
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw InputError(fmt::format("{}: cannot fork a reader process: {}", task.origin, std::strerror(errno)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], work);
  }
  ::close(fds[1]);
  std::vector<std::uint8_t> reply;
  const bool finished = read_until_eof(fds[0], std::chrono::steady_clock::now() + task.limit, reply);
  ::close(fds[0]);
  if (!finished) {
    ::kill(pid, SIGKILL);
    wait_for(pid);
    throw InputError(fmt::format("{}: {} (no answer within {} ms; stopped)", task.origin, task.crash_what,
                                 task.limit.count()));
  }
  const int status = wait_for(pid);
  std::uint64_t size = 0;
  for (int i = 0; i < 8 && reply.size() >= header_size; ++i) size |= std::uint64_t{reply[1 + i]} << (8 * i);
  const bool complete = reply.size() >= header_size && reply.size() - header_size == size &&
                        (reply[0] == 'O' || reply[0] == 'E');
  const bool clean = status == -1 || (WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (!complete || !clean) throw InputError(fmt::format("{}: {} ({})", task.origin, task.crash_what, how_it_died(status)));
  if (reply[0] == 'E')
    throw InputError(std::string(reply.begin() + header_size, reply.end()));
  reply.erase(reply.begin(), reply.begin() + header_size);
  return reply;
}

}  // namespace dagrad::io
