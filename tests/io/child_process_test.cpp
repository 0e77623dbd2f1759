// The forked-child runner behind read_h5: results come back intact, and a
// crash, a non-zero exit or a hang in the child is an InputError naming the
// file, never a crash or a hang of the caller.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/child_process.hpp"
#include "tests/io/io_test_util.hpp"

using namespace dagrad;
using namespace dagrad::io;

namespace {
const ChildTask task{"data.h5", "the reader crashed", std::chrono::milliseconds(3000)};
}

TEST_CASE("a child's bytes come back whole, larger than a pipe buffer", "[io][robustness]") {
  std::vector<std::uint8_t> big(5'000'003);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
  CHECK(run_in_child(task, [&] { return big; }) == big);
  CHECK(run_in_child(task, [] { return std::vector<std::uint8_t>{}; }).empty());
}

TEST_CASE("a child's error message is passed through as InputError", "[io][robustness]") {
  CHECK_THROWS_AS(run_in_child(task, []() -> std::vector<std::uint8_t> { throw InputError("data.h5: bad dataset 'x'"); }),
                  InputError);
  CHECK_THROWS_WITH(run_in_child(task, []() -> std::vector<std::uint8_t> { throw InputError("data.h5: bad dataset 'x'"); }),
                    "data.h5: bad dataset 'x'");
}

TEST_CASE("a child killed by a signal or exiting non-zero is an InputError", "[io][robustness]") {
  // The child restores SIGSEGV's default action, so neither Catch2's handler
  // nor ASan's turns the crash into a report or an exit status.
  CHECK_INPUT_ERROR(run_in_child(task, []() -> std::vector<std::uint8_t> { ::raise(SIGSEGV); return {}; }),
                    "data.h5: the reader crashed (killed by signal 11");
  CHECK_INPUT_ERROR(run_in_child(task, []() -> std::vector<std::uint8_t> { ::raise(SIGKILL); return {}; }),
                    "data.h5: the reader crashed (killed by signal 9");
  CHECK_INPUT_ERROR(run_in_child(task, []() -> std::vector<std::uint8_t> { ::_exit(7); }),
                    "data.h5: the reader crashed (exit status 7)");
}

TEST_CASE("a child that hangs is killed after the limit", "[io][robustness]") {
  const ChildTask quick{"data.h5", "the reader crashed", std::chrono::milliseconds(300)};
  CHECK_INPUT_ERROR(run_in_child(quick, []() -> std::vector<std::uint8_t> {
                      std::this_thread::sleep_for(std::chrono::seconds(30));
                      return {};
                    }),
                    "no answer within 300 ms");
}

TEST_CASE("run_program returns a program's exit status and its stderr", "[io][robustness]") {
  const ProgramResult ok = run_program({"/bin/sh", "-c", "exit 0"});
  CHECK(ok.ok());
  const ProgramResult bad = run_program({"/bin/sh", "-c", "echo 'no such format' >&2; exit 3"});
  CHECK_FALSE(bad.ok());
  CHECK(WIFEXITED(bad.status));
  CHECK(WEXITSTATUS(bad.status) == 3);
  CHECK(bad.err == "no such format");
}

namespace {

// Whether process `pid` has ended (gone, or a zombie no one reaped yet).
bool ended(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close == std::string::npos || line.substr(close + 2, 1) == "Z";
}

// A shell script that writes its pid into `file` (through a rename, so a
// reader never sees half of it), then becomes `sleep 30`: the program
// run_program started, for pid_in to find.
std::string sleeper_writing_pid(const std::filesystem::path& file) {
  const std::string f = file.string();
  return "echo $$ > '" + f + ".part' && mv '" + f + ".part' '" + f + "' && exec sleep 30";
}

// The pid a program wrote into `file` once it started; -1 if it never did.
pid_t pid_in(const std::filesystem::path& file) {
  for (int i = 0; i < 2000; ++i) {  // up to 20 s: the program starts long before
    std::ifstream in(file);
    pid_t pid = -1;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

}  // namespace

// Issue 19: a Graphviz child outlived dagrad after SIGTERM and wrote its
// g.png.tmp-* after dagrad had removed its temp files.
TEST_CASE("a signal kills and reaps the running program before removing the temp files", "[io][crash]") {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    INFO("signal " << sig);
    test::TempDir dir;
    const pid_t helper = ::fork();
    REQUIRE(helper >= 0);
    if (helper == 0) {
      ::setenv("TMPDIR", dir.path().c_str(), 1);
      remove_temp_files_on_signals();
      AtomicFile out(dir / "g.png");
      // `exec`: the shell becomes sleep, the program run_program started.
      run_program({"/bin/sh", "-c", sleeper_writing_pid(dir / "pid")});
      ::_exit(0);
    }
    const pid_t program = pid_in(dir / "pid");
    REQUIRE(program > 0);
    CHECK_FALSE(ended(program));
    ::kill(helper, sig);
    int status = 0;
    ::waitpid(helper, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    CHECK(ended(program));  // killed and reaped by the handler, before the helper ended
    CHECK(test::temp_files_in(dir.path()) == 0);
    CHECK_FALSE(std::filesystem::exists(dir / "g.png"));
  }
}

TEST_CASE("a program dies with dagrad even when dagrad is killed outright", "[io][crash]") {
  test::TempDir dir;
  const pid_t helper = ::fork();
  REQUIRE(helper >= 0);
  if (helper == 0) {
    run_program({"/bin/sh", "-c", sleeper_writing_pid(dir / "pid")});
    ::_exit(0);
  }
  const pid_t program = pid_in(dir / "pid");
  REQUIRE(program > 0);
  ::kill(helper, SIGKILL);  // no handler runs: PR_SET_PDEATHSIG does the work
  ::waitpid(helper, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 1000 && !gone; ++i) {  // the kernel sends SIGKILL at once; allow it to land
    gone = ended(program);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(gone);
}
