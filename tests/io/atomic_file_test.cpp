#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/params.hpp"
#include "tests/io/io_test_util.hpp"

using namespace dagrad;
using namespace dagrad::io;
using dagrad::io::test::TempDir;

TEST_CASE("AtomicFile replaces the target only on commit", "[io]") {
  TempDir dir;
  const auto path = dir / "out.txt";
  test::put_text(path, "old");
  SECTION("committed") {
    AtomicFile f(path);
    f.write("new contents");
    CHECK(test::temp_files_in(dir.path()) == 1);
    f.commit();
    const auto b = test::file_bytes(path);
    CHECK(std::string(b.begin(), b.end()) == "new contents");
  }
  SECTION("not committed") {
    {
      AtomicFile f(path);
      f.write("half of the new");
    }
    const auto b = test::file_bytes(path);
    CHECK(std::string(b.begin(), b.end()) == "old");
  }
  SECTION("an exception between write and commit") {
    try {
      AtomicFile f(path);
      f.write("partial");
      throw InputError("simulated failure while computing the rest");
    } catch (const InputError&) {
    }
    const auto b = test::file_bytes(path);
    CHECK(std::string(b.begin(), b.end()) == "old");
  }
  CHECK(test::temp_files_in(dir.path()) == 0);
}

TEST_CASE("AtomicFile refuses an unwritable directory before any work", "[io]") {
  TempDir dir;
  CHECK_INPUT_ERROR(AtomicFile(dir / "missing" / "p.npz"), "missing/p.npz: cannot create");
  test::put_text(dir / "plain", "a file, not a directory");
  CHECK_INPUT_ERROR(AtomicFile(dir / "plain" / "p.npz"), "plain/p.npz");
  CHECK_INPUT_ERROR(save_params(dir / "missing" / "p.npz", {{"W1", Matrix({1, 1})}}, DType::f64), "p.npz");
  if (::geteuid() != 0) {  // root may write to a 0555 directory
    std::filesystem::create_directory(dir / "ro");
    test::put_text(dir / "ro" / "p.npz", "old");
    std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    CHECK_INPUT_ERROR(AtomicFile(dir / "ro" / "p.npz"), "ro/p.npz");
    std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_all);
    const auto b = test::file_bytes(dir / "ro" / "p.npz");
    CHECK(std::string(b.begin(), b.end()) == "old");
  } else {
    WARN("running as root: the read-only directory case is not testable, covered by the missing one");
  }
}

namespace {

NamedMatrices big_params(double value) {
  // 2 x 8 MB: a write takes long enough for the kill to land in the middle.
  return {{"W1", Matrix({1000, 1000}, value)}, {"b1", Matrix({1000, 1}, value)},
          {"W2", Matrix({1000, 1000}, -value)}, {"b2", Matrix({1, 1}, value)}};
}

}  // namespace

TEST_CASE("SIGKILL in the middle of save_params leaves a loadable file", "[io][crash]") {
  TempDir dir;
  const auto path = dir / "params.npz";
  save_params(path, big_params(1.0), DType::f64);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    for (int k = 2;; ++k) save_params(path, big_params(k), DType::f64);
  }
  // Wait until the child is writing a temp file with some bytes in it.
  bool mid_write = false;
  for (int i = 0; i < 20000 && !mid_write; ++i) {
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      std::error_code ec;
      if (e.path().string().find(".tmp-") != std::string::npos && std::filesystem::file_size(e.path(), ec) > 1000000)
        mid_write = true;
    }
    if (!mid_write) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(mid_write);
  CHECK(WIFSIGNALED(status));
  const NamedMatrices back = load_params(path);  // throws if torn
  REQUIRE(back.size() == 4);
  const double v = back[0].second.values.front();
  CHECK(back == big_params(v));
}

// ---- what the target is decides how it is written (issue 14) -------------------

namespace {

std::string text_of(const std::filesystem::path& p) {
  const auto b = test::file_bytes(p);
  return {b.begin(), b.end()};
}

}  // namespace

TEST_CASE("AtomicFile writes through a symlink: the link stays a link", "[io]") {
  TempDir dir;
  test::put_text(dir / "real.csv", "old");
  std::filesystem::create_symlink("real.csv", dir / "link.csv");
  {
    AtomicFile f(dir / "link.csv");
    f.write("new");
    f.commit();
  }
  CHECK(std::filesystem::is_symlink(dir / "link.csv"));
  CHECK(text_of(dir / "real.csv") == "new");
  // A dangling link: the file it names is created, the link stays.
  std::filesystem::create_symlink("sub/made.csv", dir / "dangling.csv");
  std::filesystem::create_directory(dir / "sub");
  {
    AtomicFile f(dir / "dangling.csv");
    f.write("made");
    f.commit();
  }
  CHECK(std::filesystem::is_symlink(dir / "dangling.csv"));
  CHECK(text_of(dir / "sub" / "made.csv") == "made");
  CHECK(test::temp_files_in(dir.path()) == 0);
}

TEST_CASE("AtomicFile keeps the mode of the file it replaces", "[io]") {
  TempDir dir;
  test::put_text(dir / "p.npz", "old");
  std::filesystem::permissions(dir / "p.npz", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                                   std::filesystem::perms::group_read);
  AtomicFile f(dir / "p.npz");
  f.write("new");
  f.commit();
  CHECK(std::filesystem::status(dir / "p.npz").permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write | std::filesystem::perms::group_read));
}

TEST_CASE("AtomicFile writes into a character device or FIFO in place, only at commit", "[io]") {
  TempDir dir;
  std::filesystem::create_symlink("/dev/null", dir / "devnull");
  {
    AtomicFile f(dir / "devnull");
    f.write("discarded");
    f.commit();
  }
  CHECK(std::filesystem::is_symlink(dir / "devnull"));
  CHECK(std::filesystem::is_character_file("/dev/null"));
  // A FIFO: opened at once without waiting; with its reader there the bytes
  // reach it at commit, and the FIFO stays a FIFO.
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
  const int reader = ::open((dir / "pipe").c_str(), O_RDONLY | O_NONBLOCK);  // a reader that waits for nothing
  REQUIRE(reader >= 0);
  { AtomicFile uncommitted(dir / "pipe"); }
  {
    AtomicFile f(dir / "pipe");
    f.write("through the pipe");
    f.commit();
  }
  char got[64] = {};
  CHECK(::read(reader, got, sizeof got - 1) == 16);
  CHECK(std::string(got) == "through the pipe");
  ::close(reader);
  struct stat st{};
  REQUIRE(::lstat((dir / "pipe").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(test::temp_files_in(dir.path()) == 0);
}

// Issue 19: `predict -o fifo` hung after all its work, waiting for a reader.
TEST_CASE("AtomicFile refuses a FIFO with no reader at once, and never waits", "[io]") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
  CHECK_INPUT_ERROR(AtomicFile(dir / "pipe"), "pipe: is a FIFO (named pipe) with no reader");
  CHECK_INPUT_ERROR(hold_stream_output(dir / "pipe"), "start its reader first");
  CHECK(test::temp_files_in(dir.path()) == 0);
  // Held while its reader is there, the FIFO takes a later AtomicFile's
  // bytes through the same open, so the reader sees no end in between.
  const int reader = ::open((dir / "pipe").c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  hold_stream_output(dir / "pipe");
  {
    AtomicFile f(dir / "pipe");
    f.write("held");
    f.commit();
  }
  char got[16] = {};
  CHECK(::read(reader, got, sizeof got - 1) == 4);
  CHECK(std::string(got) == "held");
  ::close(reader);
  // A regular or missing file is not held.
  hold_stream_output(dir / "missing.csv");
  CHECK_FALSE(std::filesystem::exists(dir / "missing.csv"));
}

TEST_CASE("AtomicFile refuses a directory and a block device by name", "[io]") {
  TempDir dir;
  std::filesystem::create_directory(dir / "adir");
  CHECK_INPUT_ERROR(AtomicFile(dir / "adir"), "adir: is a directory");
  if (::geteuid() == 0 && ::mknod((dir / "blk").c_str(), S_IFBLK | 0600, makedev(7, 0)) == 0) {
    CHECK_INPUT_ERROR(AtomicFile(dir / "blk"), "blk: is a block device");
  } else {
    WARN("cannot make a block device node here (not root): that case is untested");
  }
}

TEST_CASE("a signal removes the live temp files and ends the process by that signal", "[io][crash]") {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    INFO("signal " << sig);
    TempDir dir;
    test::put_text(dir / "out.npz", "old");
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::setenv("TMPDIR", dir.path().c_str(), 1);
      remove_temp_files_on_signals();
      AtomicFile out(dir / "out.npz");
      out.write("half of the new");
      TempFile scratch(".svg");
      ::write(ready[1], "r", 1);
      for (;;) ::pause();
    }
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    ::close(ready[1]);
    CHECK(test::temp_files_in(dir.path()) == 2);  // the AtomicFile's and the scratch file
    ::kill(child, sig);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    CHECK(test::temp_files_in(dir.path()) == 0);
    CHECK(text_of(dir / "out.npz") == "old");
  }
}
