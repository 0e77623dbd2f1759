#include <signal.h>
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
