// dagrad predict through serve::InferencePlan: a CSV streamed in batches,
// .npy in and out, and input errors mid-stream that leave no output.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "dagrad/io/csv.hpp"
#include "dagrad/io/npy.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/train/fit.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/robustness/cli_run.hpp"

using namespace dagrad;

namespace {

// A saved 3-5-2 softmax model (f32 or f64) and n samples of 3 features.
struct Setup {
  io::test::TempDir dir;
  io::Matrix X;
  Setup(const char* dtype, std::int64_t n) : X(Shape{3, n}) {
    models::ModelSpec s;
    s.layers = {3, 5, 2};
    s.hidden = models::Activation::tanh;
    s.output = models::Output::softmax;
    models::Model m = models::build_mlp(s, std::string(dtype) == "f32" ? DType::f32 : DType::f64);
    m.init_params(4);
    models::save_model(m, dir / "m.dagrad");
    std::string csv = "a,b,c\n";  // a header line, reported and skipped
    for (std::int64_t j = 0; j < n; ++j) {
      for (std::int64_t k = 0; k < 3; ++k) X(k, j) = std::sin(0.7 * double(j * 3 + k));
      csv += fmt::format("{},{},{}\n", X(0, j), X(1, j), X(2, j));
    }
    io::test::put_text(dir / "x.csv", csv);
  }
  robustness::CliResult predict(const std::string& data, const std::string& out, const char* batch = "64") {
    return robustness::run_cli(dir.path(), {"predict", "--model", "m.dagrad", "--data", data, "-o", out,
                                            "--batch-size", batch});
  }
};

}  // namespace

TEST_CASE("dagrad predict streams a CSV in batches and writes what Predictor computes", "[serve][cli]") {
  for (const char* dtype : {"f32", "f64"}) {
    Setup s(dtype, 1000);
    const robustness::CliResult r = s.predict("x.csv", "P.csv");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("line 1 is a header (a, b, c)"));
    const io::Matrix P = io::read_csv(s.dir / "P.csv");
    REQUIRE(P.shape == Shape{1000, 2});
    // The same batches of 64 on a Predictor: the same bits.
    train::Predictor pred(models::load_model(s.dir / "m.dagrad"), 64);
    const io::Matrix want = pred.predict(s.X);
    for (std::int64_t j = 0; j < 1000; ++j)
      for (std::int64_t r2 = 0; r2 < 2; ++r2) CHECK(P(j, r2) == want(r2, j));
  }
}

TEST_CASE("dagrad predict reads and writes .npy in the model's dtype", "[serve][cli]") {
  Setup s("f32", 300);
  io::Array x;  // samples first, as numpy users hold them
  x.shape = {300, 3};
  x.dtype = DType::f64;
  for (std::int64_t j = 0; j < 300; ++j)
    for (std::int64_t k = 0; k < 3; ++k) x.values.push_back(s.X(k, j));
  io::write_npy(s.dir / "x.npy", x);
  REQUIRE(s.predict("x.npy", "P.npy").exit_code == 0);
  REQUIRE(s.predict("x.csv", "P.csv").exit_code == 0);
  const io::Array P = io::read_npy(s.dir / "P.npy");
  CHECK(P.shape == std::vector<std::int64_t>{300, 2});
  CHECK(P.descr == "<f4");
  const io::Matrix C = io::read_csv(s.dir / "P.csv");
  CHECK(P.values == C.values);  // .npy and .csv input agree, each output row a softmax
  for (std::int64_t j = 0; j < 300; ++j)
    CHECK(P.values[std::size_t(2 * j)] + P.values[std::size_t(2 * j + 1)] == Approx(1.0).epsilon(1e-6));
}

TEST_CASE("a bad line deep in a streamed CSV: one line naming it, exit 2, no output", "[serve][cli]") {
  Setup s("f64", 500);
  std::string text = robustness::slurp(s.dir / "x.csv");
  // Line 400 (a header plus 399 samples before it) loses a field.
  std::size_t at = 0;
  for (int line = 1; line < 400; ++line) at = text.find('\n', at) + 1;
  text.insert(text.find('\n', at), ",7");
  io::test::put_text(s.dir / "bad.csv", text);
  io::test::put_text(s.dir / "P.csv", "old\n");
  const robustness::CliResult r = s.predict("bad.csv", "P.csv");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad.csv:400: 4 fields, but line 2 has 3"));
  const auto lines = robustness::lines_of(r.err);  // the header's note, then the error
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
          return l.find("error:") != std::string::npos;
        }) == 1);
  CHECK(robustness::slurp(s.dir / "P.csv") == "old\n");  // the earlier batches were never committed
  const robustness::CliResult wide = s.predict("x.csv", "Q.csv", "0");
  CHECK(wide.exit_code == 2);
  CHECK_THAT(wide.err, Catch::Contains("--batch-size") && Catch::Contains("at least 1"));
  io::test::put_text(s.dir / "four.csv", "1,2,3,4\n5,6,7,8\n");
  const robustness::CliResult four = s.predict("four.csv", "Q.csv");
  CHECK(four.exit_code == 2);
  CHECK_THAT(four.err, Catch::Contains("four.csv: 4 fields per line but the model takes 3 features"));
  CHECK_FALSE(std::filesystem::exists(s.dir / "Q.csv"));
}
