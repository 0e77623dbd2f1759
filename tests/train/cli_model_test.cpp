// The model file from the command line: train --save FILE.dagrad, resume,
// eval and predict need nothing but the file, and flags that disagree with
// it are refused with exit 2.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>

#include <fmt/format.h>

#include "dagrad/graph/graph_file.hpp"
#include "dagrad/io/csv.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/train/train_test_util.hpp"

using namespace dagrad;

namespace {

struct Ran {
  int code;
  std::string out;
};

Ran dagrad_cli(const std::filesystem::path& dir, const std::string& args) {
  const auto log = dir / "log.txt";
  const std::string cmd =
      fmt::format("cd '{}' && {} {} > '{}' 2>&1", dir.string(), DAGRAD_CLI_PATH, args, log.string());
  const int status = std::system(cmd.c_str());
  std::ifstream f(log);
  std::stringstream s;
  s << f.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, s.str()};
}

const char* spec = "--layers 2,6,4,1 --hidden relu --l2 0.1 --keep-prob 0.9 --seed 4";
const char* fit = "--batch-size 16 --optimizer adam --lr 0.01 --normalize --print-every 0";

}  // namespace

TEST_CASE("dagrad train: 40 epochs, or 20 then --resume to 40, write the same file", "[train][cli]") {
  io::test::TempDir dir;
  train::write_csv(test::tiny_moons(50), dir / "d.csv");
  auto train = [&](const std::string& args) {
    const Ran r = dagrad_cli(dir.path(), args);
    INFO(args << "\n" << r.out);
    REQUIRE(r.code == 0);
    return r;
  };
  train(fmt::format("train --data d.csv {} {} --epochs 40 --save full.dagrad", spec, fit));
  train(fmt::format("train --data d.csv {} {} --epochs 20 --save half.dagrad", spec, fit));
  const Ran resumed = train("train --resume half.dagrad --data d.csv --epochs 40 --save rest.dagrad");
  CHECK(io::test::file_bytes(dir / "rest.dagrad") == io::test::file_bytes(dir / "full.dagrad"));
  CHECK(models::load_model(dir / "rest.dagrad").epochs == 40);
  // A total the model has reached would train nothing: refused, nothing written.
  for (const char* total : {"--epochs 40", "--epochs 12", "--iters 3"}) {
    const Ran r = dagrad_cli(dir.path(), fmt::format("train --resume rest.dagrad --data d.csv {} --save same.dagrad", total));
    INFO(total << "\n" << r.out);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Catch::Contains(total) && Catch::Contains("rest.dagrad has already") &&
                          Catch::Contains("give more than"));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "same.dagrad"));
  (void)resumed;
}

TEST_CASE("dagrad train --resume holds out the dev samples the model was trained without", "[train][cli]") {
  io::test::TempDir dir;
  train::write_csv(test::tiny_moons(60), dir / "d.csv");
  auto run = [&](const std::string& args, int code = 0) {
    const Ran r = dagrad_cli(dir.path(), args);
    INFO(args << "\n" << r.out);
    REQUIRE(r.code == code);
    return r;
  };
  const std::string dev = "--dev-ratio 0.25 --patience 50";
  run(fmt::format("train --data d.csv {} {} {} --epochs 12 --save full.dagrad", spec, fit, dev));
  run(fmt::format("train --data d.csv {} {} {} --epochs 6 --save half.dagrad", spec, fit, dev));
  CHECK(models::load_model(dir / "half.dagrad").dev_ratio == 0.25);
  // Without --dev-ratio the file's split goes on: the bytes of one run.
  const Ran rest = run("train --resume half.dagrad --data d.csv --epochs 12 --save rest.dagrad");
  CHECK_THAT(rest.out, Catch::Contains("Dev accuracy"));
  CHECK(io::test::file_bytes(dir / "rest.dagrad") == io::test::file_bytes(dir / "full.dagrad"));
  // The same value again is fine (early stopping needs it named).
  run("train --resume half.dagrad --data d.csv --epochs 12 --dev-ratio 0.25 --patience 50 --save again.dagrad");
  CHECK(io::test::file_bytes(dir / "again.dagrad") == io::test::file_bytes(dir / "full.dagrad"));
  // Another split is refused, naming the flag and the file's value.
  const Ran other = run("train --resume half.dagrad --data d.csv --epochs 12 --dev-ratio 0.5 --save x.dagrad", 2);
  CHECK_THAT(other.out, Catch::Contains("--dev-ratio 0.5") && Catch::Contains("dev ratio 0.25"));
  run(fmt::format("train --data d.csv {} {} --epochs 2 --save all.dagrad", spec, fit));
  const Ran none = run("train --resume all.dagrad --data d.csv --epochs 4 --dev-ratio 0.2 --save x.dagrad", 2);
  CHECK_THAT(none.out, Catch::Contains("every sample"));
  CHECK_FALSE(std::filesystem::exists(dir / "x.dagrad"));
}

TEST_CASE("dagrad train --resume scales the features as the model was trained", "[train][cli]") {
  io::test::TempDir dir;
  // Features 40 times larger than the moons': --scale 40 gives the moons back.
  io::Dataset big = test::tiny_moons(60);
  for (double& v : big.X.values) v *= 40;
  train::write_csv(big, dir / "d.csv");
  auto run = [&](const std::string& args, int code = 0) {
    const Ran r = dagrad_cli(dir.path(), args);
    INFO(args << "\n" << r.out);
    REQUIRE(r.code == code);
    return r;
  };
  const char* fit_raw = "--batch-size 16 --optimizer adam --lr 0.01 --print-every 0";
  run(fmt::format("train --data d.csv {} {} --scale 40 --epochs 8 --save full.dagrad", spec, fit_raw));
  run(fmt::format("train --data d.csv {} {} --scale 40 --epochs 4 --save half.dagrad", spec, fit_raw));
  CHECK(models::load_model(dir / "half.dagrad").data_scale == 40);
  // Without --scale the file's scaling goes on: the bytes of one run.
  run("train --resume half.dagrad --data d.csv --epochs 8 --save rest.dagrad");
  CHECK(io::test::file_bytes(dir / "rest.dagrad") == io::test::file_bytes(dir / "full.dagrad"));
  run("train --resume half.dagrad --data d.csv --epochs 8 --scale 40 --save again.dagrad");
  CHECK(io::test::file_bytes(dir / "again.dagrad") == io::test::file_bytes(dir / "full.dagrad"));
  // The unscaled features are another stream (the check that the test can fail).
  run(fmt::format("train --data d.csv {} {} --epochs 8 --save raw.dagrad", spec, fit_raw));
  CHECK(io::test::file_bytes(dir / "raw.dagrad") != io::test::file_bytes(dir / "full.dagrad"));
  // Other scaling is refused, naming the flag and the file's.
  const Ran none = run("train --resume half.dagrad --data d.csv --epochs 8 --no-scale --save x.dagrad", 2);
  CHECK_THAT(none.out, Catch::Contains("--no-scale") && Catch::Contains("features / 40") &&
                           Catch::Contains("half.dagrad"));
  const Ran other = run("train --resume half.dagrad --data d.csv --epochs 8 --scale 20 --save x.dagrad", 2);
  CHECK_THAT(other.out, Catch::Contains("--scale 20") && Catch::Contains("--scale 40"));
  const Ran raw = run("train --resume raw.dagrad --data d.csv --epochs 10 --scale 40 --save x.dagrad", 2);
  CHECK_THAT(raw.out, Catch::Contains("--scale 40") && Catch::Contains("default scaling"));
  CHECK_FALSE(std::filesystem::exists(dir / "x.dagrad"));
  // --no-scale is stored as dividing by 1, and --scale 1 is the same stream.
  run(fmt::format("train --data d.csv {} {} --no-scale --epochs 4 --save kept.dagrad", spec, fit_raw));
  CHECK(models::load_model(dir / "kept.dagrad").data_scale == 1);
  run("train --resume kept.dagrad --data d.csv --epochs 6 --scale 1 --save one.dagrad");
}

TEST_CASE("predict and eval scale the features as the model was trained", "[train][cli]") {
  io::test::TempDir dir;
  // Features 32 times the moons' (a power of two: dividing gives them back
  // exactly): a model trained with --scale 32 must see the moons themselves.
  const io::Dataset moons = test::tiny_moons(60);
  io::Dataset big = moons;
  for (double& v : big.X.values) v *= 32;
  train::write_csv(big, dir / "big.csv");
  train::write_csv(moons, dir / "small.csv");
  auto features = [&](const io::Dataset& d, const char* name) {  // predict reads features alone
    std::ofstream f(dir / name);
    for (std::int64_t s = 0; s < d.X.cols(); ++s)
      f << fmt::format("{:.17g},{:.17g}\n", d.X(0, s), d.X(1, s));
  };
  features(big, "big_x.csv");
  features(moons, "small_x.csv");
  auto run = [&](const std::string& args, int code = 0) {
    const Ran r = dagrad_cli(dir.path(), args);
    INFO(args << "\n" << r.out);
    REQUIRE(r.code == code);
    return r;
  };
  run(fmt::format("train --data big.csv {} --batch-size 16 --optimizer adam --lr 0.01 --print-every 0 "
                  "--scale 32 --epochs 8 --save m.dagrad", spec));
  // No flag: divided by the model's 32, as the moons divided by hand (read as they are).
  run("predict --model m.dagrad --data big_x.csv -o stored.csv");
  run("predict --model m.dagrad --data small_x.csv --no-scale -o by_hand.csv");
  CHECK(io::test::file_bytes(dir / "stored.csv") == io::test::file_bytes(dir / "by_hand.csv"));
  run("predict --model m.dagrad --data big_x.csv --scale 32 -o given.csv");
  CHECK(io::test::file_bytes(dir / "given.csv") == io::test::file_bytes(dir / "stored.csv"));
  // A flag still wins (and the features read as they are give other outputs).
  run("predict --model m.dagrad --data big_x.csv --no-scale -o raw.csv");
  CHECK(io::test::file_bytes(dir / "raw.csv") != io::test::file_bytes(dir / "stored.csv"));
  const Ran stored = run("eval --model m.dagrad --data big.csv");
  const Ran by_hand = run("eval --model m.dagrad --data small.csv --no-scale");
  CHECK(stored.out == by_hand.out);
  CHECK_THAT(stored.out, Catch::Contains("Accuracy"));
}

TEST_CASE("a model never trained here takes any batch size, and a full batch is never called 0", "[train][cli]") {
  io::test::TempDir dir;
  train::write_csv(test::tiny_moons(40), dir / "d.csv");
  models::ModelSpec s;
  s.layers = {2, 5, 1};
  models::Model fresh = models::build_mlp(s);  // as saved from C++, or imported: steps 0
  fresh.init_params(3);
  models::save_model(fresh, dir / "fresh.dagrad");
  const Ran mini = dagrad_cli(dir.path(), "train --resume fresh.dagrad --data d.csv --iters 6 --batch-size 16 "
                                          "--dev-ratio 0.25 --print-every 0 --save tuned.dagrad");
  INFO(mini.out);
  REQUIRE(mini.code == 0);
  const models::Model tuned = models::load_model(dir / "tuned.dagrad");
  CHECK(tuned.batch_size == 16);
  CHECK(tuned.dev_ratio == 0.25);
  REQUIRE(dagrad_cli(dir.path(), "train --data d.csv --layers 2,5,1 --iters 3 --print-every 0 --save full.dagrad").code == 0);
  const Ran r = dagrad_cli(dir.path(), "train --resume full.dagrad --data d.csv --iters 6 --batch-size 16 --save x.dagrad");
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("--batch-size 16") && Catch::Contains("full batch"));
  CHECK_THAT(r.out, !Catch::Contains(" 0 "));
}

TEST_CASE("dagrad eval and predict need only the model file", "[train][cli]") {
  io::test::TempDir dir;
  const io::Dataset data = test::tiny_moons(40);
  train::write_csv(data, dir / "d.csv");
  REQUIRE(dagrad_cli(dir.path(), fmt::format("train --data d.csv {} {} --epochs 5 --save m.dagrad",
                                             spec, fit)).code == 0);
  const Ran e = dagrad_cli(dir.path(), "eval --model m.dagrad --data d.csv");
  INFO(e.out);
  REQUIRE(e.code == 0);
  models::Model m = models::load_model(dir / "m.dagrad");
  const train::Evaluation ev = train::evaluate(m, data);
  CHECK_THAT(e.out, Catch::Contains(fmt::format("Accuracy: {:.2f}%", 100 * ev.accuracy)));
  CHECK_THAT(e.out, Catch::Contains(fmt::format("Cost: {:.6f}", ev.cost)));

  // Features only, one sample per line; P.csv one row per sample.
  std::string features;
  for (std::int64_t j = 0; j < 7; ++j) features += fmt::format("{},{}\n", data.X(0, j), data.X(1, j));
  io::test::put_text(dir / "new.csv", features);
  const Ran p = dagrad_cli(dir.path(), "predict --model m.dagrad --data new.csv -o P.csv");
  INFO(p.out);
  REQUIRE(p.code == 0);
  const io::Matrix P = io::read_csv(dir / "P.csv");
  REQUIRE(P.shape == Shape{7, 1});
  io::Matrix X({2, 7});
  for (std::int64_t j = 0; j < 7; ++j) X(0, j) = data.X(0, j), X(1, j) = data.X(1, j);
  const io::Matrix want = train::predict(m, X);
  for (std::int64_t j = 0; j < 7; ++j) CHECK(P(j, 0) == want(0, j));
}

// Issue 19, A.7: a command that takes a saved model alone lists no flag
// that would describe another model, and refuses one as unknown.
TEST_CASE("predict and export --help list only the flags that apply to them", "[train][cli]") {
  io::test::TempDir dir;
  for (const char* cmd : {"predict", "export"}) {
    const Ran h = dagrad_cli(dir.path(), fmt::format("{} --help", cmd));
    INFO(h.out);
    REQUIRE(h.code == 0);
    CHECK_THAT(h.out, Catch::Contains("--model TEXT REQUIRED"));
    for (const char* flag : {"--layers", "--hidden", "--output", "--l2", "--keep-prob", "--dtype", "--seed", "--lr",
                             "--iters", "--epochs", "--optimizer"})
      CHECK_THAT(h.out, !Catch::Contains(std::string(flag) + " "));
  }
  CHECK_THAT(dagrad_cli(dir.path(), "predict --help").out, Catch::Contains("--threads"));
  const Ran seed = dagrad_cli(dir.path(), "predict --model m.dagrad --data d.csv -o P.csv --seed 5");
  CHECK(seed.code == 2);
  CHECK_THAT(seed.out, Catch::Contains("unknown flag --seed"));
}

TEST_CASE("flags that disagree with the model file are refused with exit 2", "[train][cli]") {
  io::test::TempDir dir;
  train::write_csv(test::tiny_moons(30), dir / "d.csv");
  REQUIRE(dagrad_cli(dir.path(), fmt::format("train --data d.csv {} {} --epochs 2 --save m.dagrad",
                                             spec, fit)).code == 0);
  const std::pair<const char*, const char*> refused[] = {
      {"eval --model m.dagrad --data d.csv --hidden tanh", "--hidden tanh"},
      {"eval --model m.dagrad --data d.csv --layers 2,5,1", "--layers 2,5,1"},
      {"eval --model m.dagrad --data d.csv --dtype f32", "--dtype f32"},
      {"predict --model m.dagrad --data d.csv -o P.csv --l2 0.7", "unknown flag --l2"},  // not a predict flag
      {"train --resume m.dagrad --data d.csv --epochs 4 --optimizer gd", "--optimizer"},
      {"train --resume m.dagrad --data d.csv --epochs 4 --lr 0.5", "--lr"},
      {"train --resume m.dagrad --data d.csv --epochs 4 --init xavier", "--init"},
      {"train --resume m.dagrad --data d.csv --epochs 4 --batch-size 8", "--batch-size"},
      {"eval --model m.dagrad --graph g.json --data d.csv", "give the model only once"},
  };
  for (const auto& [args, says] : refused) {
    const Ran r = dagrad_cli(dir.path(), args);
    INFO(args << "\n" << r.out);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Catch::Contains(says));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "P.csv"));
  // Agreeing flags are fine.
  CHECK(dagrad_cli(dir.path(), "eval --model m.dagrad --data d.csv --hidden relu --dtype f64 "
                               "--layers 2,6,4,1").code == 0);
}

TEST_CASE("a linear output trains regression on real-valued labels and reports R^2",
          "[train][cli]") {
  // y = 3 x1 - 2 x2 + 1 + noise: a linear model fits it almost exactly.
  io::test::TempDir dir;
  std::string csv;
  for (int i = 0; i < 60; ++i) {
    const double x1 = std::sin(0.7 * i), x2 = std::cos(1.3 * i);
    csv += fmt::format("{},{},{}\n", x1, x2, 3 * x1 - 2 * x2 + 1 + 0.01 * std::sin(17.0 * i));
  }
  io::test::put_text(dir / "r.csv", csv);
  const Ran r = dagrad_cli(dir.path(), "train --data r.csv --layers 2,1 --output linear --lr 0.5 "
                                       "--iters 500 --print-every 0 --save lin.dagrad");
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto r2_of = [](const std::string& out) {
    const auto at = out.find("R^2: ");
    return at == std::string::npos ? -1.0 : std::stod(out.substr(at + 5));
  };
  CHECK(r2_of(r.out) > 0.999);
  models::Model m = models::load_model(dir / "lin.dagrad");
  CHECK(m.value("W1").get(0) == Approx(3.0).margin(0.01));
  CHECK(m.value("W1").get(1) == Approx(-2.0).margin(0.01));
  CHECK(m.value("b1").get(0) == Approx(1.0).margin(0.01));
  const Ran e = dagrad_cli(dir.path(), "eval --model lin.dagrad --data r.csv");
  CHECK(r2_of(e.out) > 0.999);
}

TEST_CASE("dagrad train --graph trains a graph saved from C++ and saves it as a model",
          "[train][cli]") {
  io::test::TempDir dir;
  train::write_csv(test::tiny_moons(40), dir / "d.csv");
  {
    Graph g;
    Expr X = g.input("X", {2, m_dim}), Y = g.input("Y", {1, m_dim});
    Expr W1 = g.param("W1", {6, 2}), b1 = g.param("b1", {6, 1});
    Expr W2 = g.param("W2", {6, 6}), b2 = g.param("b2", {6, 1});
    Expr W3 = g.param("W3", {1, 6}), b3 = g.param("b3", {1, 1});
    Expr A1 = relu(W1 * X + b1).named("A1");
    Expr A2 = (relu(W2 * A1 + b2) + A1).named("A2");  // residual
    Expr P = sigmoid(W3 * A2 + b3).named("P");
    binary_cross_entropy(P, Y).named("J");
    save(g, dir / "res.json", GraphRoles{"J", {"P"}, {}});
  }
  const Ran r = dagrad_cli(dir.path(), "train --graph res.json --data d.csv --epochs 60 --batch-size 8 "
                                       "--optimizer adam --lr 0.02 --print-every 0 --save res.dagrad");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("Train accuracy: "));
  models::Model m = models::load_model(dir / "res.dagrad");
  CHECK(m.output().name() == "P");
  CHECK(m.params().size() == 6);
  CHECK(train::evaluate(m, test::tiny_moons(40)).accuracy > 0.8);
  // A spec flag that the graph does not have is refused, naming it.
  const Ran bad = dagrad_cli(dir.path(), "train --graph res.json --data d.csv --epochs 2 --hidden tanh");
  CHECK(bad.code == 2);
  CHECK_THAT(bad.out, Catch::Contains("--hidden"));
}

TEST_CASE("dot --model draws the model's input normalization, feeding X", "[train][cli]") {
  io::test::TempDir dir;
  train::write_csv(test::tiny_moons(30), dir / "d.csv");
  REQUIRE(dagrad_cli(dir.path(), "train --data d.csv --layers 2,3,1 --iters 2 --normalize --print-every 0 "
                                 "--save n.dagrad").code == 0);
  REQUIRE(dagrad_cli(dir.path(), "train --data d.csv --layers 2,3,1 --iters 2 --print-every 0 --save p.dagrad").code == 0);
  const Ran n = dagrad_cli(dir.path(), "dot --model n.dagrad");
  REQUIRE(n.code == 0);
  const models::Model m = models::load_model(dir / "n.dagrad");
  const std::string x = fmt::format("n{}", m.features().id);
  CHECK_THAT(n.out, Catch::Contains("X = (X_raw - mu) / sigma") && Catch::Contains("2 x 1") &&
                        Catch::Contains("norm -> " + x + " ") && Catch::Contains("  " + x + ";"));
  const Ran p = dagrad_cli(dir.path(), "dot --model p.dagrad");
  REQUIRE(p.code == 0);
  CHECK_THAT(p.out, !Catch::Contains("norm"));
}
