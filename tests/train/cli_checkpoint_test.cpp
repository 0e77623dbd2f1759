// --checkpoint-every and a run that diverges (issue 19, B4): the file --save
// holds at the end is a whole model of finite values, and the last line says
// truly which update it holds; an update that makes a value NaN or Inf is
// never checkpointed.
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
  train::write_csv(test::tiny_moons(30), dir / "d.csv");
  // lr 1e300: the first updates leave W finite but huge, and a later cost
  // is not finite. Checkpoints every update, then every 2.
  for (const char* every : {"1", "2"}) {
    INFO("--checkpoint-every " << every);
    std::filesystem::remove(dir / "ck.dagrad");
    const robustness::CliResult r =
        robustness::run_cli(dir.path(), {"train", "--layers", "2,4,1", "--data", "d.csv", "--lr", "1e300", "--iters", "40",
                                          "--print-every", "0", "--checkpoint-every", every, "--save", "ck.dagrad"});
    INFO(r.err);
    REQUIRE(r.exit_code == 1);
    const std::vector<std::string> lines = robustness::lines_of(r.err);
    REQUIRE(lines.size() == 1);
    std::smatch at, held;
    REQUIRE(std::regex_search(lines[0], at, std::regex("at iteration ([0-9]+)")));
    const int diverged = std::stoi(at[1]);
    if (std::regex_search(lines[0], held, std::regex("holds the checkpoint after update ([0-9]+)"))) {
      // The message is true: the file is the model after that many updates,
      // a multiple of K made before the update whose cost was not finite.
      const models::Model ck = models::load_model(dir / "ck.dagrad");
      CHECK(ck.steps == std::stoi(held[1]));
      CHECK(ck.steps % std::stoi(every) == 0);
      CHECK(ck.steps <= diverged);
      CHECK(all_finite(ck));
      // and it resumes: evaluated on the data without a word of error.
      const robustness::CliResult ev = robustness::run_cli(dir.path(), {"eval", "--model", "ck.dagrad", "--data", "d.csv"});
      CHECK(ev.exit_code == 0);
    } else {
      CHECK(lines[0].find("no output file was written") != std::string::npos);
      CHECK_FALSE(std::filesystem::exists(dir / "ck.dagrad"));
    }
  }
  // With K = 1 the first update's model is finite (|W| ~ 1e300 * |dW| <
  // 1e308), so a checkpoint exists: the branch above that reads it ran.
  const robustness::CliResult r =
      robustness::run_cli(dir.path(), {"train", "--layers", "2,4,1", "--data", "d.csv", "--lr", "1e300", "--iters", "40",
                                        "--print-every", "0", "--checkpoint-every", "1", "--save", "one.dagrad"});
  CHECK(r.err.find("--save one.dagrad holds the checkpoint after update") != std::string::npos);
  CHECK(all_finite(models::load_model(dir / "one.dagrad")));
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
