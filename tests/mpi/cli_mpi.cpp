// `mpirun -np N dagrad train` as a user runs it (the built binary, a black
// box, tests/robustness/cli_run.hpp): a program of its own, registered by
// tests/CMakeLists.txt only in a build with MPI, that starts mpirun itself.
//   - N = 2 and 3 processes save the parameters one process saves (f64,
//     Adam, dropout, L2, normalization, a last batch that leaves a process
//     without samples) to 1e-10, two runs with the same N the same bits,
//     and only rank 0 prints;
//   - SIGKILL of one process mid-run ends the job within seconds with a
//     message and a failing exit code (no hang), and --resume from the last
//     checkpoint, under 2 or 3 processes, ends where the uninterrupted run
//     ends: the same bits with the same N, 1e-10 with another.
#include <catch2/catch.hpp>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "dagrad/models/model_file.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/robustness/cli_run.hpp"

using namespace dagrad;
using dagrad::io::test::TempDir;
using dagrad::robustness::CliLimits;
using dagrad::robustness::CliResult;
using dagrad::robustness::run_cli;

namespace {

std::vector<std::string> mpirun(int np) {
  std::vector<std::string> l{DAGRAD_MPIEXEC, "-np", std::to_string(np)};
  if (np > 2) l.push_back("--oversubscribe");
  return l;
}

// 203 samples of 4 features, labels in the last column: batches of 40 leave
// 3 samples for the last one, which the last process of 3 (samples
// 135..202) may or may not hold.
void write_data(const std::filesystem::path& path, int samples) {
  std::string text;
  for (int i = 0; i < samples; ++i) {
    double s = 0;
    for (int k = 0; k < 4; ++k) {
      const double v = 2.0 + std::sin(0.37 * (i + 1) * (k + 1)) * (k + 1);
      s += v * (k % 2 ? -1 : 1);
      text += fmt::format("{:.17g},", v);
    }
    text += (s + 0.3 * std::cos(1.7 * i) > 0.0) ? "1\n" : "0\n";
  }
  io::test::put_text(path, text);
}

std::vector<std::string> train_args(const std::string& save, int epochs, int print_every = 1) {
  return {"train", "--layers", "4,16,8,1", "--hidden", "relu", "--dtype", "f64", "--optimizer", "adam",
          "--lr", "0.01", "--keep-prob", "0.8", "--l2", "0.5", "--normalize", "--batch-size", "40",
          "--seed", "3", "--data", "d.csv", "--epochs", std::to_string(epochs), "--print-every", std::to_string(print_every),
          "--bucket-mb", "0.0005", "--save", save};
}

CliResult run_train(const TempDir& dir, int np, const std::string& save, int epochs,
                std::vector<std::string> extra = {}) {
  std::vector<std::string> args = train_args(save, epochs);
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = run_cli(dir.path(), args, CliLimits{std::chrono::seconds(120), 0, np > 1 ? mpirun(np) : std::vector<std::string>{}});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

// max |a - b| / max(|a|, |b|) over every parameter; 0 when bitwise equal.
double max_relative(const models::Model& a, const models::Model& b) {
  double worst = 0;
  for (Expr p : a.params()) {
    const runtime::Tensor &x = a.value(p.name()), &y = b.value(p.name());
    REQUIRE(x.size() == y.size());
    for (std::int64_t i = 0; i < x.size(); ++i) {
      const double d = std::abs(x.get(i) - y.get(i));
      if (d > 0) worst = std::max(worst, d / std::max(std::abs(x.get(i)), std::abs(y.get(i))));
    }
  }
  return worst;
}

bool same_bits(const models::Model& a, const models::Model& b) {
  for (const std::string& name : a.value_names()) {
    const runtime::Tensor &x = a.value(name), &y = b.value(name);
    if (x.size() != y.size() || std::memcmp(x.raw(), y.raw(), static_cast<std::size_t>(x.size()) * dtype_size(x.dtype())) != 0)
      return false;
  }
  return true;
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("mpirun -np 2 and 3 train to the parameters of one process", "[mpi][cli]") {
  TempDir dir;
  write_data(dir / "d.csv", 203);
  const CliResult one = run_train(dir, 1, "one.dagrad", 6);
  const CliResult two = run_train(dir, 2, "two.dagrad", 6);
  run_train(dir, 2, "two_again.dagrad", 6);
  run_train(dir, 3, "three.dagrad", 6);
  const models::Model m1 = models::load_model(dir / "one.dagrad");
  const models::Model m2 = models::load_model(dir / "two.dagrad");
  const models::Model m3 = models::load_model(dir / "three.dagrad");
  CHECK(m2.steps == m1.steps);
  CHECK(m3.steps == m1.steps);
  CHECK(max_relative(m1, m2) <= 1e-10);
  CHECK(max_relative(m1, m3) <= 1e-10);
  // Really summed in another order, else the test shows nothing: two
  // data-parallel runs whose sums are grouped differently (each runs the
  // narrow-net kernel's two stages, passes/fuse_net.cpp, as one process runs
  // the whole kernel).
  CHECK(max_relative(m2, m3) > 0.0);
  CHECK(same_bits(m2, models::load_model(dir / "two_again.dagrad")));
  // Rank 0 alone prints: each epoch's cost line once, as one process does.
  CHECK(count_of(two.out, "Cost after epoch") == 6);
  CHECK(count_of(two.out, "Train accuracy") == 1);
  CHECK(count_of(one.out, "Train accuracy") == 1);
}

TEST_CASE("a process killed mid-run ends the job, and --resume from the checkpoint ends where the run would", "[mpi][cli]") {
  TempDir dir;
  write_data(dir / "d.csv", 203);
  // A run far longer than the test waits: killed after its first checkpoints.
  ::setenv("DAGRAD_PID_DIR", dir.path().c_str(), 1);
  robustness::CliProcess job(dir.path(), [] {
    auto a = train_args("ck.dagrad", 1000000, 0);
    a.insert(a.end(), {"--checkpoint-every", "10"});
    return a;
  }(), CliLimits{std::chrono::seconds(120), 0, mpirun(2)});
  ::unsetenv("DAGRAD_PID_DIR");
  const auto pid_file = dir / "rank1.pid";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!(std::filesystem::exists(dir / "ck.dagrad") && std::filesystem::exists(pid_file)) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(std::filesystem::exists(dir / "ck.dagrad"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few more checkpoints
  const pid_t victim = std::stoi(robustness::slurp(pid_file));
  REQUIRE(::kill(victim, SIGKILL) == 0);
  const auto killed = std::chrono::steady_clock::now();
  const CliResult r = job.wait();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  INFO(r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(seconds < 20.0);
  CHECK(r.exit_code != 0);
  CHECK(count_of(r.err, "signal 9") + count_of(r.err, "Killed") > 0);

  // The last checkpoint is a whole model file, some way into the run.
  const models::Model ck = models::load_model(dir / "ck.dagrad");
  REQUIRE(ck.steps >= 10);
  CHECK(ck.steps % 10 == 0);
  const int end = static_cast<int>(ck.epochs) + 2;
  run_train(dir, 2, "straight.dagrad", end);
  const auto resume = [&](int np, const std::string& save) {
    const CliResult res = run_cli(dir.path(), {"train", "--resume", "ck.dagrad", "--data", "d.csv", "--epochs",
                                               std::to_string(end), "--print-every", "0", "--save", save},
                                  CliLimits{std::chrono::seconds(120), 0, mpirun(np)});
    INFO(res.err);
    REQUIRE(res.exit_code == 0);
    return models::load_model(dir / save);
  };
  const models::Model straight = models::load_model(dir / "straight.dagrad");
  const models::Model two = resume(2, "resumed2.dagrad"), three = resume(3, "resumed3.dagrad");
  CHECK(two.steps == straight.steps);
  CHECK(same_bits(two, straight));
  CHECK(three.steps == straight.steps);
  CHECK(max_relative(three, straight) <= 1e-10);
}
