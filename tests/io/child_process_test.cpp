// The forked-child runner behind read_h5: results come back intact, and a
// crash, a non-zero exit or a hang in the child is an InputError naming the
// file, never a crash or a hang of the caller.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

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
