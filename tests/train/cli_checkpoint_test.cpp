// --checkpoint-every and a run that diverges (issue 19, B4): the file --save
// holds at the end is a whole model of finite values whose cost is finite,
// and the last line says truly which update it holds; an update that makes a
// value NaN or Inf, or a cost that is not finite, is never checkpointed.
#include <catch2/catch.hpp>

#include <cmath>
#include <regex>
#include <string>

#include <fmt/format.h>

#include "dagrad/models/model_file.hpp"
#include "dagrad/train/data.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/robustness/cli_run.hpp"
#include "tests/train/train_test_util.hpp"

using namespace dagrad;

namespace {

bool all_finite(const models::Model& m) {
  for (const std::string& name : m.value_names()) {
    const runtime::Tensor& t = m.value(name);
    for (std::int64_t i = 0; i < t.size(); ++i)
      if (!std::isfinite(t.get(i))) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a run that diverges after a checkpoint says which update --save holds, and it is finite", "[train][cli]") {
  io::test::TempDir dir;
  // A linear unit with lr 20: the error grows by a constant factor each
  // update until the cost overflows, some hundred updates in.
  std::string text;
  for (int i = 0; i < 30; ++i) text += fmt::format("{:.3f},{:.3f},{}\n", std::sin(i), std::cos(1.7 * i), i % 2);
  io::test::put_text(dir / "d.csv", text);
  for (const int every : {1, 7, 10}) {
    INFO("--checkpoint-every " << every);
    std::filesystem::remove(dir / "ck.dagrad");
    const robustness::CliResult r = robustness::run_cli(
        dir.path(), {"train", "--layers", "2,1", "--output", "linear", "--data", "d.csv", "--lr", "20", "--iters", "2000",
                     "--print-every", "0", "--checkpoint-every", std::to_string(every), "--save", "ck.dagrad"});
    INFO(r.err);
    REQUIRE(r.exit_code == 1);
    const std::vector<std::string> lines = robustness::lines_of(r.err);
    REQUIRE(lines.size() == 1);
    std::smatch at, held;
    REQUIRE(std::regex_search(lines[0], at, std::regex("at iteration ([0-9]+)")));
    REQUIRE(std::regex_search(lines[0], held, std::regex("--save ck.dagrad holds the checkpoint after update ([0-9]+)")));
    const int diverged = std::stoi(at[1]), saved = std::stoi(held[1]);
    // The last multiple of K whose parameters' cost (at iteration `saved`)
    // was computed and finite: every iteration before `diverged` was.
    CHECK(saved == (diverged - 1) / every * every);
    const models::Model ck = models::load_model(dir / "ck.dagrad");
    CHECK(ck.steps == saved);
    CHECK(all_finite(ck));
    // Its cost is finite: eval reads it and prints a number.
    const robustness::CliResult ev = robustness::run_cli(dir.path(), {"eval", "--model", "ck.dagrad", "--data", "d.csv"});
    INFO(ev.out << ev.err);
    CHECK(ev.exit_code == 0);
    std::smatch cost;
    REQUIRE(std::regex_search(ev.out, cost, std::regex("[Cc]ost: ([-+0-9.e]+)")));
    CHECK(std::isfinite(std::stod(cost[1])));
  }
}

TEST_CASE("the checkpoint of an update whose cost is NaN is never written", "[train][cli]") {
  io::test::TempDir dir;
  train::write_csv(test::tiny_moons(30), dir / "d.csv");
  // lr 1e300: the first update leaves W finite (|W| ~ 1e300 |dW|) but its
  // cost (iteration 1) is not; the checkpoint after update 1 is dropped.
  const robustness::CliResult r =
      robustness::run_cli(dir.path(), {"train", "--layers", "2,4,1", "--data", "d.csv", "--lr", "1e300", "--iters", "40",
                                        "--print-every", "0", "--checkpoint-every", "1", "--save", "ck.dagrad"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("at iteration 1:") != std::string::npos);
  CHECK(r.err.find("no output file was written") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "ck.dagrad"));
}

TEST_CASE("an update that makes a parameter infinite is never checkpointed", "[train][cli]") {
  io::test::TempDir dir;
  // Features of 1e4: with lr 1e308 the first update overflows W2.
  std::string big;
  for (int i = 0; i < 8; ++i) big += fmt::format("{},{},{}\n", 1e4 * (i - 3.5), -1e4 * (i % 3), i % 2);
  io::test::put_text(dir / "big.csv", big);
  const robustness::CliResult r =
      robustness::run_cli(dir.path(), {"train", "--layers", "2,4,1", "--data", "big.csv", "--lr", "1e308", "--iters", "10",
                                        "--print-every", "0", "--checkpoint-every", "1", "--save", "ck.dagrad"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no output file was written") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "ck.dagrad"));
}
