// Determinism: with the same seed and the same thread count, two training
// runs (dropout and shuffled mini-batches on) give bitwise-identical parameter
// files. Checked for --threads 1 and 2 through the CLI, comparing bytes.
#include <fmt/format.h>

#include <cmath>

#include "dagrad/io/params.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/models/init.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/robustness/cli_run.hpp"

using namespace dagrad;

namespace {

// 96 samples on two interleaved rings (label = inside the radius-1 circle),
// jittered by a fixed integer hash so the test needs no RNG of its own.
void write_rings(const std::filesystem::path& file) {
  std::string text;
  for (int i = 0; i < 96; ++i) {
    const double r = (i % 2 == 0 ? 0.5 : 1.5) + 0.01 * ((i * 37) % 11);
    const double t = 0.37 * i;
    text += fmt::format("{},{},{}\n", r * std::cos(t), r * std::sin(t), i % 2 == 0 ? 1 : 0);
  }
  io::test::put_text(file, text);
}

robustness::CliResult train_once(const io::test::TempDir& dir, const std::string& out, int threads) {
  return robustness::run_cli(dir.path(), {"train", "--data", "rings.csv", "--layers", "2,16,8,1", "--hidden", "relu",
                                          "--keep-prob", "0.8", "--batch-size", "16", "--epochs", "20", "--lr", "0.05",
                                          "--seed", "11", "--threads", std::to_string(threads), "--print-every", "0",
                                          "--save", out});
}

}  // namespace

TEST_CASE("two training runs with the same seed and threads give identical bytes", "[robustness]") {
  io::test::TempDir dir;
  write_rings(dir / "rings.csv");
  for (const int threads : {1, 2}) {
    INFO("--threads " << threads);
    const std::string a = fmt::format("a{}.npz", threads), b = fmt::format("b{}.npz", threads);
    const robustness::CliResult ra = train_once(dir, a, threads), rb = train_once(dir, b, threads);
    INFO("stderr: " << ra.err << rb.err);
    REQUIRE(ra.exit_code == 0);
    REQUIRE(rb.exit_code == 0);
    const auto bytes_a = io::test::file_bytes(dir / a);
    CHECK(bytes_a.size() > 100);
    CHECK(bytes_a == io::test::file_bytes(dir / b));
    // The files hold trained, not initial, parameters: every W differs from
    // the He draw of seed 11 that training started from.
    const io::NamedMatrices trained = io::load_params(dir / a);
    Graph g(DType::f64);
    models::ModelSpec spec;
    spec.layers = {2, 16, 8, 1};
    const auto initial = models::init_params(models::build_mlp(g, spec, 1), models::Init::he, 11, DType::f64);
    REQUIRE(trained.size() == initial.size());
    for (std::size_t k = 0; k < initial.size(); k += 2) {
      INFO(trained[k].first);
      REQUIRE(trained[k].second.shape == initial[k].shape());
      CHECK(trained[k].second != initial[k].to_matrix());
    }
  }
}
