#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "dagrad/io/params.hpp"
#include "tests/train/train_test_util.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/synthetic.hpp"

using namespace dagrad;

namespace {

std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / fmt::format("dagrad_train_{}_{}", name, ::getpid());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

int run(const std::string& args, const std::filesystem::path& out) {
  const std::string cmd = fmt::format("{} {} > {} 2>&1", DAGRAD_CLI_PATH, args, out.string());
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("dagrad train writes one cost-log row per iteration", "[train]") {
  const auto dir = temp_dir("cli");
  train::write_csv(test::tiny_moons(30), dir / "d.csv");
  const std::string args = fmt::format(
      "train --data {0}/d.csv --layers 2,4,1 --hidden relu --init he --lr 0.3 --iters 25 "
      "--print-every 10 --cost-log {0}/costs.csv --save {0}/p.npz",
      dir.string());
  REQUIRE(run(args, dir / "out.txt") == 0);
  const std::string out = slurp(dir / "out.txt");
  CHECK_THAT(out, Catch::Contains("Cost after iteration 0: "));
  CHECK_THAT(out, Catch::Contains("Cost after iteration 20: "));
  CHECK_THAT(out, Catch::Contains("Train accuracy: "));
  std::ifstream log(dir / "costs.csv");
  std::string line;
  std::getline(log, line);
  CHECK(line == "iteration,cost");
  int rows = 0;
  while (std::getline(log, line)) {
    CHECK(line.rfind(fmt::format("{},", rows), 0) == 0);
    ++rows;
  }
  CHECK(rows == 25);
  const auto params = io::load_params(dir / "p.npz");
  CHECK(params.size() == 4);
  // eval reads the saved file back; a wrong architecture names the parameter.
  CHECK(run(fmt::format("eval --layers 2,4,1 --params {0}/p.npz --data {0}/d.csv", dir.string()),
            dir / "eval.txt") == 0);
  CHECK_THAT(slurp(dir / "eval.txt"), Catch::Contains("Accuracy: "));
  CHECK(run(fmt::format("eval --layers 2,5,1 --params {0}/p.npz --data {0}/d.csv", dir.string()),
            dir / "bad.txt") == 2);
  CHECK_THAT(slurp(dir / "bad.txt"), Catch::Contains("W1"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("dagrad train refuses a bad flag value with exit code 2", "[train]") {
  const auto dir = temp_dir("cli_bad");
  train::write_csv(test::tiny_moons(10), dir / "d.csv");
  CHECK(run(fmt::format("train --data {}/d.csv --layers 3,1 --iters 5", dir.string()),
            dir / "o.txt") == 2);
  CHECK_THAT(slurp(dir / "o.txt"), Catch::Contains("n[0] = 3"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("generated data sets have balanced 0/1 labels and round-trip as CSV", "[train]") {
  const auto dir = temp_dir("gen");
  for (const char* kind : {"planar", "circles", "moons"}) {
    const auto d = train::make_dataset(kind, 40, 3);
    REQUIRE(d.X.rows() == 2);
    double ones = 0;
    for (double y : d.Y.values) ones += y;
    CHECK(ones == 20);
    train::write_csv(d, dir / "g.csv", dir / "y.csv");
    const auto back = train::load_data(dir / "g.csv", {dir / "y.csv", false, 0});
    CHECK(back.X == d.X);
    CHECK(back.Y == d.Y);
  }
  // circles: the inner circle has radius 0.8 before noise.
  const auto c = train::make_circles(100, 0.0, 0.8, 1);
  for (std::int64_t i = 0; i < 100; ++i)
    CHECK(std::hypot(c.X(0, i), c.X(1, i)) == Approx(c.Y(0, i) == 1 ? 0.8 : 1.0));
  std::filesystem::remove_all(dir);
}

TEST_CASE("dagrad train --threads 1, 2 and 3 save byte-identical parameter files, f32 and f64",
          "[train][gemm_bits]") {
  // Layers 2, 256, 128, 1 on a planar set of 600: the GEMMs are large enough
  // to be cut into panels, which OpenBLAS's own threading would round
  // differently (issue 18). Full batch and mini-batches of 256 (a last of 88).
  const auto dir = temp_dir("threads");
  train::write_csv(train::make_dataset("planar", 600, 5), dir / "d.csv");
  for (const char* dtype : {"f32", "f64"})
    for (const char* batch : {"", "--batch-size 256"}) {
      std::string first;
      for (const int threads : {1, 2, 3}) {
        INFO(dtype << " " << batch << " --threads " << threads);
        const auto saved = dir / fmt::format("p_{}_{}_{}.npz", dtype, *batch ? "mb" : "full", threads);
        const std::string args = fmt::format(
            "train --data {0}/d.csv --layers 2,256,128,1 --iters 8 --optimizer adam --lr 0.05 --dtype {1} "
            "{2} --threads {3} --save {4}",
            dir.string(), dtype, batch, threads, saved.string());
        REQUIRE(run(args, dir / "out.txt") == 0);
        std::ifstream f(saved, std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
        REQUIRE(bytes.size() > 256 * 128 * 4);
        if (threads == 1) first = bytes;
        else CHECK(bytes == first);
      }
    }
  std::filesystem::remove_all(dir);
}
