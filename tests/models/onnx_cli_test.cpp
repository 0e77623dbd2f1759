// dagrad export and dagrad import from the command line: train, export,
// import and predict give the same predictions; the imported model is an
// ordinary model file for gradcheck, dot, explain and train --resume; what
// cannot be exported or imported is exit 2 with a one-line message.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "dagrad/models/model_file.hpp"
#include "dagrad/models/onnx.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/train/data.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/robustness/cli_run.hpp"
#include "tests/train/train_test_util.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;
using robustness::CliResult;
using robustness::run_cli;

namespace {

// The notes' 2-3-1 network, untrained.
models::ModelSpec small_spec() {
  models::ModelSpec s;
  s.layers = {2, 3, 1};
  return s;
}

CliResult ok(const io::test::TempDir& dir, const std::vector<std::string>& args) {
  const CliResult r = run_cli(dir.path(), args);
  INFO(fmt::format("dagrad {}\n{}{}", fmt::join(args, " "), r.out, r.err));
  REQUIRE(r.exit_code == 0);
  return r;
}

CliResult refused(const io::test::TempDir& dir, const std::vector<std::string>& args) {
  const CliResult r = run_cli(dir.path(), args);
  INFO(fmt::format("dagrad {}\n{}{}", fmt::join(args, " "), r.out, r.err));
  CHECK(r.exit_code == 2);
  CHECK(robustness::lines_of(r.err).size() == 1);
  return r;
}

// The trained model and a features-only CSV to predict.
void train_model(const io::test::TempDir& dir) {
  train::write_csv(test::tiny_moons(60), dir / "x.csv", dir / "y.csv");
  ok(dir, {"train", "--data", "x.csv", "--labels", "y.csv", "--layers", "2,6,4,1", "--hidden", "tanh",
           "--iters", "200", "--lr", "0.3", "--normalize", "--print-every", "0", "--save", "m.dagrad"});
}

}  // namespace

TEST_CASE("dagrad export, import, predict: the same predictions", "[onnx][cli]") {
  if (!models::onnx_available()) {
    io::test::TempDir dir;
    refused(dir, {"import", "m.onnx", "-o", "m.dagrad"});
    dagrad::support::missing_dependency("libonnx (libonnx-dev)", "every check but the refusal");
    return;
  }
  io::test::TempDir dir;
  train_model(dir);
  const CliResult e = ok(dir, {"export", "--model", "m.dagrad", "-o", "m.onnx"});
  CHECK_THAT(e.out, Catch::Contains("opset 13") && Catch::Contains("normalized in the graph"));
  const CliResult i = ok(dir, {"import", "m.onnx", "-o", "back.dagrad"});
  CHECK_THAT(i.out, Catch::Contains("output A3 [batch, 1] (sigmoid), cost J (binary cross-entropy)"));
  CHECK_THAT(i.out, Catch::Contains("W1 (6x2), b1 (6x1), W2 (4x6)"));
  ok(dir, {"predict", "--model", "m.dagrad", "--data", "x.csv", "-o", "p.csv"});
  ok(dir, {"predict", "--model", "back.dagrad", "--data", "x.csv", "-o", "q.csv"});
  const std::string p = robustness::slurp(dir / "p.csv");
  CHECK(robustness::lines_of(p).size() == 60);
  CHECK(robustness::slurp(dir / "q.csv") == p);  // f64, shortest round-trip digits: the same bits
  // Export again from the imported model: the same file.
  ok(dir, {"export", "--model", "back.dagrad", "-o", "again.onnx"});
  CHECK(io::test::file_bytes(dir / "again.onnx") == io::test::file_bytes(dir / "m.onnx"));
}

TEST_CASE("an imported model is checked, drawn, explained and fine-tuned like any other", "[onnx][cli]") {
  if (!models::onnx_available()) {
    dagrad::support::missing_dependency("libonnx (libonnx-dev)", "this test");
    return;
  }
  io::test::TempDir dir;
  train_model(dir);
  ok(dir, {"export", "--model", "m.dagrad", "-o", "m.onnx"});
  ok(dir, {"import", "m.onnx", "-o", "back.dagrad"});
  const CliResult g = ok(dir, {"gradcheck", "--model", "back.dagrad"});
  CHECK_THAT(g.out, Catch::Contains("W1") && Catch::Contains("b3"));
  const CliResult x = ok(dir, {"explain", "--model", "back.dagrad"});
  CHECK_THAT(x.out, Catch::Contains("dZ[3] = A[3] - Y") && Catch::Contains("dW[1] = 1/m dZ[1] X^T"));
  ok(dir, {"dot", "--model", "back.dagrad", "-o", "g.dot"});
  CHECK_THAT(robustness::slurp(dir / "g.dot"), Catch::Contains("W[1]"));
  ok(dir, {"eval", "--model", "back.dagrad", "--data", "x.csv", "--labels", "y.csv"});
  ok(dir, {"train", "--resume", "back.dagrad", "--data", "x.csv", "--labels", "y.csv", "--iters", "100",
           "--lr", "0.3", "--print-every", "0", "--cost-log", "c.csv", "--save", "tuned.dagrad"});
  const auto lines = robustness::lines_of(robustness::slurp(dir / "c.csv"));
  REQUIRE(lines.size() == 101);
  const double first = std::stod(lines[1].substr(lines[1].find(',') + 1));
  const double last = std::stod(lines.back().substr(lines.back().find(',') + 1));
  CHECK(last < first);
  CHECK(models::load_model(dir / "tuned.dagrad").steps == 100);
}

TEST_CASE("dagrad export and import refuse with exit 2 and one line naming the fault", "[onnx][cli]") {
  if (!models::onnx_available()) {
    dagrad::support::missing_dependency("libonnx (libonnx-dev)", "this test");
    return;
  }
  io::test::TempDir dir;
  {  // an output ONNX cannot hold: relu's derivative mask
    models::Model m = models::build_mlp(small_spec(), DType::f64);
    Graph& g = m.graph();
    m.set_output(step(g.expr(*g.find("Z2"))).named("M"));
    m.init_params(1);
    models::save_model(m, dir / "step.dagrad");
  }
  // An output file that was there keeps its bytes, and no temporary file is left.
  io::test::put_text(dir / "s.onnx", "precious");
  CHECK_THAT(refused(dir, {"export", "--model", "step.dagrad", "-o", "s.onnx"}).err,
             Catch::Contains("node M (step)"));
  CHECK(robustness::slurp(dir / "s.onnx") == "precious");
  CHECK(io::test::temp_files_in(dir.path()) == 0);
  refused(dir, {"export", "--model", "step.dagrad", "-o", "s.dagrad"});  // not FILE.onnx
  io::test::put_text(dir / "junk.onnx", "this is not a protobuf\n");
  io::test::put_text(dir / "j.dagrad", "precious");
  CHECK_THAT(refused(dir, {"import", "junk.onnx", "-o", "j.dagrad"}).err,
             Catch::Contains("junk.onnx: not an ONNX model"));
  CHECK(robustness::slurp(dir / "j.dagrad") == "precious");
  CHECK(io::test::temp_files_in(dir.path()) == 0);
  CHECK_THAT(refused(dir, {"import", "missing.onnx", "-o", "j.dagrad"}).err, Catch::Contains("missing.onnx"));
  refused(dir, {"import", "junk.onnx", "-o", "j.npz"});
}
