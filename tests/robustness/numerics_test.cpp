// Numerical health: Executor::run with check_numerics names the first node
// that yields NaN or Inf, its op and the range of its inputs; training that
// diverges stops with a clear message, fit keeps the last good parameters and
// the CLI, for which a diverged run is a failure, writes no output; a cost
// stuck at log 2 is reported as "nothing is being learned".
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/models/init.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/robustness/cli_run.hpp"

using namespace dagrad;

namespace {

// J = sum over all of f(X) for a 2 x 3 input X holding `values`; runs once
// and returns the NumericError's message ("" when nothing was thrown).
std::string numeric_error_of(Expr (*f)(Expr), const std::vector<double>& values, bool check = true) {
  Graph g(DType::f64);
  auto X = g.input("X", {2, 3});
  auto F = f(X).named("F");
  auto J = sum(sum(F, 1), 0).named("J");
  runtime::Executor ex(g, {J.id});
  ex.bind("X", values.data(), Shape{2, 3});
  try {
    ex.run(runtime::RunOptions{.training = false, .step = 0, .check_numerics = check});
  } catch (const NumericError& e) {
    return e.what();
  }
  return "";
}

Expr log_of(Expr x) { return log(x); }
Expr exp_of(Expr x) { return exp(x); }
Expr sqrt_of(Expr x) { return sqrt(x); }

}  // namespace

TEST_CASE("check_numerics names the op, node and input range of the first NaN", "[robustness]") {
  // log(-0.5) is NaN; the input X spans [-0.5, 4].
  const std::string m = numeric_error_of(log_of, {1, 2, -0.5, 4, 0.25, 3});
  INFO(m);
  CHECK(m.find("log") != std::string::npos);
  CHECK(m.find("F") != std::string::npos);
  CHECK(m.find("nan") != std::string::npos);
  CHECK(m.find("at (0, 2)") != std::string::npos);  // row 0, col 2 holds -0.5
  CHECK(m.find("[-0.5, 4]") != std::string::npos);
  CHECK(m.find("X") != std::string::npos);
}

TEST_CASE("check_numerics stops at the first Inf, not at its consumers", "[robustness]") {
  // exp(1000) overflows a double (max ~1.8e308 = exp(709.78)); the error names
  // F (the exp), not the sums that consume it.
  const std::string m = numeric_error_of(exp_of, {0, 1, 2, 3, 1000, 5});
  INFO(m);
  CHECK(m.rfind("exp F produced inf at (1, 1)", 0) == 0);
  CHECK(m.find("[0, 1000]") != std::string::npos);
}

TEST_CASE("without check_numerics the NaN flows through silently", "[robustness]") {
  CHECK(numeric_error_of(sqrt_of, {1, -4, 9, 16, 25, 36}, false).empty());
  CHECK_FALSE(numeric_error_of(sqrt_of, {1, -4, 9, 16, 25, 36}, true).empty());
  CHECK(numeric_error_of(sqrt_of, {1, 4, 9, 16, 25, 36}, true).empty());
}

namespace {

// 8 samples, 2 features, balanced 0/1 labels (4 of each).
void write_tiny(const std::filesystem::path& file) {
  io::test::put_text(file, "0.5,1.0,1\n-0.5,0.2,0\n1.5,-1.0,1\n-1.0,-0.3,0\n0.3,0.8,1\n-0.2,0.1,0\n2.0,0.4,1\n-1.5,-0.9,0\n");
}

}  // namespace

TEST_CASE("training that reaches a NaN cost stops, exits 1 and writes nothing", "[robustness]") {
  io::test::TempDir dir;
  write_tiny(dir / "tiny.csv");
  for (const char* f : {"p.npz", "costs.csv"}) io::test::put_text(dir / f, "precious\n");
  // alpha = 1e300 sends W to ~1e300 after one update; W X then overflows.
  const auto r = robustness::run_cli(dir.path(), {"train", "--data", "tiny.csv", "--layers", "2,3,1", "--lr", "1e300",
                                                  "--iters", "50", "--print-every", "0", "--save", "p.npz",
                                                  "--cost-log", "costs.csv", "--plot", "cost.svg"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 1);  // training failed; not a usage error
  CHECK(r.err.find("at iteration ") != std::string::npos);
  CHECK(r.err.find("stopping") != std::string::npos);
  CHECK(r.err.find("no output file was written") != std::string::npos);
  // A failed run leaves the earlier files as they were and makes no new one.
  for (const char* f : {"p.npz", "costs.csv"}) CHECK(robustness::slurp(dir / f) == "precious\n");
  CHECK_FALSE(std::filesystem::exists(dir / "cost.svg"));
  CHECK(io::test::temp_files_in(dir.path()) == 0);
}

TEST_CASE("after a NaN cost fit keeps the parameters of the last finite cost", "[robustness]") {
  // A relu net and a learning rate that overflows W X only after a few
  // updates, so the kept parameters are trained ones (n - 1 >= 1 updates),
  // compared bit for bit with a run of exactly n - 1 updates.
  models::ModelSpec spec;
  spec.layers = {2, 5, 1};
  spec.hidden = models::Activation::relu;
  io::Dataset d;
  d.origin = "tiny";
  d.X = io::Matrix({2, 8});
  d.Y = io::Matrix({1, 8});
  const double xs[8][3] = {{0.5, 1.0, 1}, {-0.5, 0.2, 0}, {1.5, -1.0, 1}, {-1.0, -0.3, 0},
                           {0.3, 0.8, 1}, {-0.2, 0.1, 0}, {2.0, 0.4, 1}, {-1.5, -0.9, 0}};
  for (int i = 0; i < 8; ++i) {
    d.X(0, i) = xs[i][0];
    d.X(1, i) = xs[i][1];
    d.Y(0, i) = xs[i][2];
  }
  // The parameters after fitting `iterations` updates (0: the initial ones).
  auto fit = [&](std::int64_t iterations, train::FitResult* result = nullptr) {
    models::Model m = models::build_mlp(spec, DType::f64);
    train::FitOptions o;
    o.optimizer.learning_rate = 1e150;  // the cost of iteration 2 overflows
    o.iterations = iterations;
    o.out = nullptr;
    if (iterations > 0) {
      const train::FitResult r = train::fit(m, d, nullptr, o);
      if (result) *result = r;
    } else {
      m.init_params(m.seed);
    }
    std::vector<std::vector<double>> params;
    for (Expr p : m.params()) params.push_back(m.value(p.name()).to_matrix().values);
    return params;
  };
  train::FitResult r;
  const auto kept = fit(50, &r);
  REQUIRE(r.diverged);
  const std::int64_t n = r.iterations;  // the cost of iteration n was not finite
  INFO(r.message);
  REQUIRE(n >= 2);
  CHECK(r.message.find(fmt::format("at iteration {}", n)) != std::string::npos);
  train::FitResult exact;
  CHECK(fit(n - 1, &exact) == kept);
  CHECK_FALSE(exact.diverged);
  CHECK(r.costs.size() == static_cast<std::size_t>(n));
  // ... and they are trained, not the initial ones (fit's He init, seed 1).
  const auto initial = fit(0);
  for (std::size_t k = 0; k < kept.size(); k += 2) {  // the W's (b starts at 0)
    INFO("W" << k / 2 + 1);
    CHECK(initial[k] != kept[k]);
  }
}

TEST_CASE("a cost stuck at log 2 warns that nothing is being learned", "[robustness]") {
  // Zero init on balanced labels: A1 = tanh(0) = 0, A2 = 1/2, J = log 2, and
  // dW2 = dZ2 A1^T = 0, db2 = mean(1/2 - y) = 0, dW1 = 0 because W2 = 0: the
  // parameters never move and J stays at log 2 = 0.693147 exactly.
  io::test::TempDir dir;
  write_tiny(dir / "tiny.csv");
  const auto r = robustness::run_cli(dir.path(), {"train", "--data", "tiny.csv", "--layers", "2,4,1", "--hidden", "tanh",
                                                  "--init", "zeros", "--lr", "0.5", "--iters", "300", "--print-every", "100"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  const std::string all = r.out + r.err;
  CHECK(all.find("log 2") != std::string::npos);
  CHECK(all.find("nothing is being learned") != std::string::npos);
  CHECK(all.find("0.693147") != std::string::npos);
  // A learnable start on the same data gives no warning.
  const auto ok = robustness::run_cli(dir.path(), {"train", "--data", "tiny.csv", "--layers", "2,4,1", "--hidden", "tanh",
                                                   "--init", "xavier", "--lr", "0.5", "--iters", "300", "--print-every", "100"});
  CHECK(ok.exit_code == 0);
  CHECK((ok.out + ok.err).find("nothing is being learned") == std::string::npos);
}

TEST_CASE("train --check-numerics names the first node that went NaN or Inf", "[robustness]") {
  io::test::TempDir dir;
  write_tiny(dir / "tiny.csv");
  io::test::put_text(dir / "p.npz", "precious\n");
  const auto r = robustness::run_cli(dir.path(), {"train", "--data", "tiny.csv", "--layers", "2,3,1", "--lr", "1e300",
                                                  "--iters", "50", "--print-every", "0", "--check-numerics", "--save", "p.npz"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("produced") != std::string::npos);  // "<op> <node> produced inf at (i, j); input ..."
  CHECK(r.err.find(" in [") != std::string::npos);     // the inputs' ranges
  CHECK(io::test::file_bytes(dir / "p.npz") == std::vector<std::uint8_t>{'p', 'r', 'e', 'c', 'i', 'o', 'u', 's', '\n'});
}
