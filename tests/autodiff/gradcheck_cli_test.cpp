// `dagrad gradcheck` as a user runs it: exit codes (0 pass, 1 fail, 2 usage
// or input error), the per-parameter report, graph files (a saved backward
// pass with a wrong rule fails), and --data / --params / --dump agreeing with
// the library's own gradients.
#include <catch2/catch.hpp>

#include <filesystem>

#include <fmt/format.h>
#include <unistd.h>

#include "dagrad/dagrad.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/io/npz.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/ops/grad_override.hpp"
#include "tests/autodiff/autodiff_test_util.hpp"

using namespace dagrad;
namespace fs = std::filesystem;

namespace {

test::CommandResult gradcheck(const std::string& args) {
  return test::run_command(fmt::format("'{}' gradcheck {}", DAGRAD_CLI_PATH, args));
}

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / fmt::format("dagrad_gradcheck_cli_{}", ::getpid());
  fs::create_directories(d);
  return d;
}

// The notes' shallow net with its backward pass, as examples/save_graph builds it.
Graph two_layer(std::int64_t m) {
  Graph g;
  auto X = g.input("X", {2, m});
  auto Y = g.input("Y", {1, m});
  auto W1 = g.param("W1", {4, 2});
  auto b1 = g.param("b1", {4, 1});
  auto W2 = g.param("W2", {1, 4});
  auto b2 = g.param("b2", {1, 1});
  auto A1 = tanh(W1 * X + b1).named("A1");
  auto A2 = sigmoid(W2 * A1 + b2).named("A2");
  auto J = binary_cross_entropy(A2, Y).named("J");
  gradients(J, {W1, b1, W2, b2});
  return g;
}

std::vector<Expr> wrong_sigmoid_rule(const ops::GradCall& c) { return {mul(c.g, c.y)}; }

}  // namespace

TEST_CASE("dagrad gradcheck: the issue's done-when command passes below 1e-7", "[autodiff]") {
  const auto r =
      gradcheck("--layers 5,4,3,1 --hidden relu --l2 0.7 --keep-prob 0.8 --m 10 --seed 1");
  INFO(r.output);
  REQUIRE(r.status == 0);
  for (const char* p : {"W1 ", "b1 ", "W2 ", "b2 ", "W3 ", "b3 "}) {
    const auto at = r.output.find(std::string("\n") + p);
    REQUIRE(at != std::string::npos);
    const std::string line = r.output.substr(at + 1, r.output.find('\n', at + 1) - at - 1);
    INFO(line);
    CHECK(line.ends_with("PASS"));
    // The rel.diff column: the token before PASS.
    std::vector<std::string> tokens;
    std::istringstream words(line);
    for (std::string w; words >> w;) tokens.push_back(w);
    REQUIRE(tokens.size() >= 2);
    const double diff = std::stod(tokens[tokens.size() - 2]);
    CHECK(diff < 1e-7);
  }
  CHECK(r.output.find("overall: relative difference") != std::string::npos);
  CHECK(r.output.find("20 sampled per parameter") != std::string::npos);
}

TEST_CASE("dagrad gradcheck --per-node: every local rule of the network agrees", "[autodiff]") {
  const auto r = gradcheck("--layers 4,3,2 --output softmax --hidden tanh --m 5 --per-node --full");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("local rules agree") != std::string::npos);
  CHECK(r.output.find("every coordinate (--full)") != std::string::npos);
}

TEST_CASE("dagrad gradcheck: usage and input errors exit 2", "[autodiff]") {
  CHECK(gradcheck("--layers 5,4,1 --bogus").status == 2);
  CHECK(gradcheck("--m 10").status == 2);  // neither --layers nor --graph
  CHECK(gradcheck("--layers 5,4,1 --threshold 0").status == 2);
  CHECK(gradcheck("--layers 5,4,1 --samples 0").status == 2);
  const auto missing = gradcheck("--graph /nonexistent/model.json");
  CHECK(missing.status == 2);
  CHECK(missing.output.find("/nonexistent/model.json") != std::string::npos);
}

TEST_CASE("dagrad gradcheck --graph: a saved graph passes, a saved wrong backward pass fails",
          "[autodiff]") {
  const fs::path dir = temp_dir();
  save(two_layer(30), dir / "good.json");
  const auto good = gradcheck(fmt::format("--graph '{}' --full", (dir / "good.json").string()));
  INFO(good.output);
  CHECK(good.status == 0);
  CHECK(good.output.find("the file's backward nodes") != std::string::npos);
  {
    // The same net differentiated with a wrong sigmoid rule (used for the hidden layer's
    // derivative only: the output layer goes through the fused bce_logits rule).
    ops::ScopedGradRuleOverride wrong(OpKind::sigmoid, wrong_sigmoid_rule);
    Graph g;
    auto X = g.input("X", {2, 30});
    auto Y = g.input("Y", {1, 30});
    auto W1 = g.param("W1", {4, 2});
    auto W2 = g.param("W2", {1, 4});
    auto A1 = sigmoid(W1 * X).named("A1");
    auto J = binary_cross_entropy(sigmoid(W2 * A1), Y).named("J");
    gradients(J, {W1, W2});
    save(g, dir / "bad.json");
  }
  const auto bad = gradcheck(fmt::format("--graph '{}'", (dir / "bad.json").string()));
  INFO(bad.output);
  CHECK(bad.status == 1);
  CHECK(bad.output.find("FAIL") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("dagrad gradcheck --data --params --dump: the dump equals the library's gradients",
          "[autodiff]") {
  const fs::path dir = temp_dir();
  const std::int64_t m = 12;
  std::mt19937_64 rng(8);
  // Data stored one sample per row, as numpy users and the course do.
  io::Matrix x = test::random_matrix({m, 3}, rng),
             y = test::random_matrix({m, 1}, rng, test::Fill::binary);
  io::write_npz(dir / "data.npz",
                {{"X", io::to_array(x, DType::f64)}, {"Y", io::to_array(y, DType::f64)}},
                io::Compression::stored);
  Graph g;
  models::ModelSpec s;
  s.layers = {3, 4, 1};
  s.hidden = models::Activation::tanh;
  s.l2 = 0.3;
  auto model = models::build_mlp(g, s, m);
  const auto grads = gradients(model.J, model.params());
  io::NamedMatrices params;
  autodiff::Feeds feeds;
  for (Expr p : model.params()) {
    params.emplace_back(p.name(), test::random_matrix(p.shape(), rng));
    feeds.emplace_back(p.name(), params.back().second);
  }
  io::save_params(dir / "params.npz", params, DType::f64);
  io::Matrix xt({3, m}), yt({1, m});
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t f = 0; f < 3; ++f) xt(f, i) = x(i, f);
    yt(0, i) = y(i, 0);
  }
  feeds.emplace_back("X", xt);
  feeds.emplace_back("Y", yt);

  const auto r =
      gradcheck(fmt::format("--layers 3,4,1 --hidden tanh --l2 0.3 --data '{0}/data.npz' "
                            "--params '{0}/params.npz' --dump '{0}/grads.npz'",
                            dir.string()));
  INFO(r.output);
  REQUIRE(r.status == 0);
  const io::NamedMatrices dumped = io::load_params(dir / "grads.npz");
  std::vector<NodeId> ids;
  for (Expr d : grads) ids.push_back(d.id);
  const auto expected = test::evaluate(g, feeds, ids);
  REQUIRE(dumped.size() == 4);
  for (std::size_t k = 0; k < 4; ++k) {
    CHECK(dumped[k].first == "d" + model.params()[k].name());
    CHECK(dumped[k].second == expected[k]);
  }
  fs::remove_all(dir);
}
