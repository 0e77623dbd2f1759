#include "dagrad/io/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
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

// ---- the children, for the signal path -----------------------------------------
//
// A fixed table of running children's pids, so kill_children (called from a
// signal handler) touches no heap and calls only kill(2) and waitpid(2),
// both async-signal-safe. A pid enters the table with every signal blocked
// (between fork and the table no signal can strike), and leaves it only
// after the child has exited but before it is reaped, so the pid cannot yet
// belong to another process.

constexpr int max_children = 16;
volatile sig_atomic_t g_children[max_children];

// Blocks every signal for its lifetime.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved_);
  }
  ~AllSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  const sigset_t& saved() const { return saved_; }

 private:
  sigset_t saved_;
};

void remember_child(pid_t pid) {
  for (volatile sig_atomic_t& slot : g_children)
    if (slot == 0) {
      slot = pid;
      return;
    }
  // A full table: the child still dies with dagrad by PR_SET_PDEATHSIG.
}

// Waits until `pid` has exited without reaping it, takes it out of the
// table, then reaps it; its wait status, or -1 when it cannot be had.
int reap_child(pid_t pid) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  {
    const AllSignalsBlocked blocked;
    for (volatile sig_atomic_t& slot : g_children)
      if (slot == pid) slot = 0;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

// In a new child, before anything else: die with the parent (`parent` is
// its pid before the fork; if it is gone already, PDEATHSIG came too late),
// and take back the default action of the signals whose handler in the
// parent removes the parent's temp files.
void become_child(pid_t parent, const sigset_t& mask) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
  pthread_sigmask(SIG_SETMASK, &mask, nullptr);
}

// fork with the child in the table and set up by become_child; -1 on failure.
pid_t fork_child() {
  const pid_t parent = ::getpid();
  const AllSignalsBlocked blocked;
  const pid_t pid = ::fork();
  if (pid == 0) become_child(parent, blocked.saved());
  if (pid > 0) remember_child(pid);
  return pid;
}

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
  const pid_t pid = fork_child();
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
    reap_child(pid);
    throw InputError(fmt::format("{}: {} (no answer within {} ms; stopped)", task.origin, task.crash_what,
                                 task.limit.count()));
  }
  const int status = reap_child(pid);
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

bool ProgramResult::ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

ProgramResult run_program(const std::vector<std::string>& args) {
  // Everything the child needs is made before the fork: after it, the child
  // (a copy of one thread of a threaded process) makes only system calls.
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0)
    throw InputError(fmt::format("cannot run '{}': pipe: {}", args.at(0), std::strerror(errno)));
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t pid = null < 0 ? -1 : fork_child();
  if (pid == 0) {
    if (::dup2(null, STDIN_FILENO) < 0 || ::dup2(null, STDOUT_FILENO) < 0 || ::dup2(err[1], STDERR_FILENO) < 0)
      ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const int saved = errno;
  ::close(err[1]);
  if (null >= 0) ::close(null);
  if (pid < 0) {
    ::close(err[0]);
    throw InputError(fmt::format("cannot run '{}': {}", args.at(0), std::strerror(saved)));
  }
  ProgramResult r;
  char buf[512];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (r.err.size() < 600) r.err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(err[0]);
  r.status = reap_child(pid);
  while (!r.err.empty() && (r.err.back() == '\n' || r.err.back() == '\r' || r.err.back() == ' ')) r.err.pop_back();
  r.err = r.err.substr(0, 600);
  return r;
}

void kill_children() noexcept {
  for (volatile sig_atomic_t& slot : g_children) {
    const pid_t pid = slot;
    if (pid <= 0) continue;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    slot = 0;
  }
}

}  // namespace dagrad::io
