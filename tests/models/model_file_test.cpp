// Model files: a model saved and loaded is the same model (values, state,
// counters, roles), resuming from one continues as if never stopped, and a
// damaged file is refused naming the file.
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <map>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/params.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/models/model_edit.hpp"
#include "tests/train/train_test_util.hpp"

using namespace dagrad;

namespace {

// Every value of the model (parameters and optimizer state) as bytes.
std::map<std::string, std::vector<std::uint8_t>> bytes_of(const models::Model& m) {
  std::map<std::string, std::vector<std::uint8_t>> out;
  for (const std::string& name : m.value_names()) {
    const runtime::Tensor& t = m.value(name);
    const auto* p = static_cast<const std::uint8_t*>(t.raw());
    out[name].assign(p, p + t.size() * static_cast<std::int64_t>(dtype_size(t.dtype())));
  }
  return out;
}

// The notes' [2,6,4,1] relu net with L2 and dropout, Adam on mini-batches of
// 16 out of 50 samples (a partial batch of 2 every epoch), normalized inputs.
models::Model regularized_mlp(DType dtype) {
  models::ModelSpec s;
  s.layers = {2, 6, 4, 1};
  s.l2 = 0.1;
  s.keep_prob = {0.8};
  s.seed = 5;
  models::Model m = models::build_mlp(s, dtype);
  m.seed = 5;
  return m;
}

train::FitOptions adam_epochs(std::int64_t epochs) {
  train::FitOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.optimizer.kind = train::OptimizerKind::adam;
  o.optimizer.learning_rate = 0.01;
  o.optimizer.decay_rate = 0.05;
  o.normalize = true;
  o.out = nullptr;
  return o;
}

}  // namespace

TEST_CASE("train 40 epochs, or 20, save, load and resume to 40: the same bits", "[models]") {
  const io::Dataset data = test::tiny_moons(50);
  for (DType dtype : {DType::f64, DType::f32}) {
    INFO(dtype_name(dtype));
    models::Model straight = regularized_mlp(dtype);
    train::fit(straight, data, nullptr, adam_epochs(40));

    models::Model first = regularized_mlp(dtype);
    train::fit(first, data, nullptr, adam_epochs(20));
    io::test::TempDir dir;
    models::save_model(first, dir / "half.dagrad");
    models::Model resumed = models::load_model(dir / "half.dagrad");
    CHECK(resumed.epochs == 20);
    CHECK(resumed.steps == 20 * 4);
    const train::FitResult rest = train::fit(resumed, data, nullptr, adam_epochs(40));
    CHECK(rest.iterations == 20 * 4);
    CHECK(resumed.epochs == 40);
    CHECK(resumed.steps == straight.steps);
    REQUIRE(bytes_of(resumed).size() == bytes_of(straight).size());
    CHECK(bytes_of(resumed) == bytes_of(straight));  // W, b, v_dW, s_dW, t, alpha0
    // And not by accident: ten epochs less differ.
    models::Model short_run = regularized_mlp(dtype);
    train::fit(short_run, data, nullptr, adam_epochs(30));
    CHECK(bytes_of(short_run) != bytes_of(straight));
  }
}

TEST_CASE("a saved model loads with its roles, values, counters and normalization", "[models]") {
  const io::Dataset data = test::tiny_moons(50);
  models::Model m = regularized_mlp(DType::f64);
  m.set_init("W2", models::Init::xavier);
  train::fit(m, data, nullptr, adam_epochs(3));
  io::test::TempDir dir;
  models::save_model(m, dir / "m.dagrad");
  const models::Model back = models::load_model(dir / "m.dagrad");
  CHECK(bytes_of(back) == bytes_of(m));
  CHECK(back.cost().name() == "J");
  CHECK(back.eval_cost().name() == "cost");
  CHECK(back.output().name() == "A3");
  CHECK(back.params().size() == 6);
  CHECK(back.optimizer() == m.optimizer());
  CHECK(back.steps == m.steps);
  CHECK(back.seed == 5);
  REQUIRE(back.spec);
  CHECK(back.spec->layers == m.spec->layers);
  CHECK(back.spec->keep_prob == m.spec->keep_prob);
  REQUIRE(back.normalization);
  CHECK(back.normalization->mu == m.normalization->mu);
  CHECK(models::init_overrides(back) == models::init_overrides(m));
  // The same predictions, bit for bit, and the same file again.
  models::Model again = models::load_model(dir / "m.dagrad");
  CHECK(train::predict(again, data.X) == train::predict(m, data.X));
  CHECK(models::model_bytes(again) == models::model_bytes(m));
}

TEST_CASE("a DSL model with its own names saves, loads and evaluates", "[models]") {
  models::Model model;
  Graph& g = model.graph();
  Expr X = g.input("features", {2, m_dim}), Y = g.input("target", {1, m_dim});
  Expr W = g.param("Wa", {3, 2}), c = g.param("ca", {3, 1});
  Expr V = g.param("Vb", {1, 3});
  Expr out = sigmoid(V * tanh(W * X + c)).named("p");
  model.set_cost(binary_cross_entropy(out, Y).named("loss"));
  model.set_output(out);
  model.set_features(X);
  model.set_labels(Y);
  const io::Dataset data = test::tiny_moons(40);
  train::FitOptions o;
  o.iterations = 200;
  o.optimizer.learning_rate = 0.5;
  o.out = nullptr;
  train::fit(model, data, nullptr, o);
  io::test::TempDir dir;
  models::save_model(model, dir / "own.dagrad");
  models::Model back = models::load_model(dir / "own.dagrad");
  CHECK(back.features().name() == "features");
  CHECK(back.labels().name() == "target");
  CHECK(train::evaluate(back, data).accuracy == train::evaluate(model, data).accuracy);
  CHECK(train::evaluate(back, data).cost == train::evaluate(model, data).cost);
}

TEST_CASE("a graph file with a model section is a model to train", "[models]") {
  Graph g;
  Expr X = g.input("X", {2, m_dim}), Y = g.input("Y", {1, m_dim});
  Expr W1 = g.param("W1", {4, 2}), b1 = g.param("b1", {4, 1});
  Expr W2 = g.param("W2", {1, 4}), b2 = g.param("b2", {1, 1});
  Expr A2 = sigmoid(W2 * tanh(W1 * X + b1) + b2).named("out");
  Expr J = binary_cross_entropy(A2, Y).named("J");
  io::test::TempDir dir;
  save(g, dir / "g.json", GraphRoles{"J", {"out"}, {"W1", "b1", "W2", "b2"}});
  models::Model m = models::load_graph_model(dir / "g.json");
  CHECK(m.output().name() == "out");
  CHECK(m.graph().node(*m.graph().find("X")).shape == Shape{2, m_dim});
  train::FitOptions o;
  o.epochs = 30;
  o.batch_size = 8;
  o.optimizer.learning_rate = 0.5;
  o.out = nullptr;
  const auto r = train::fit(m, test::tiny_moons(40), nullptr, o);
  CHECK(r.epoch_costs.back() < r.epoch_costs.front());
  // Without a model section: J by name, and the prediction from the cost.
  save(g, dir / "bare.json");
  models::Model bare = models::load_graph_model(dir / "bare.json");
  CHECK(bare.output().node().op == OpKind::sigmoid);
  (void)J;
}

TEST_CASE("a damaged model file is refused, naming the file", "[models]") {
  const io::Dataset data = test::tiny_moons(50);
  models::Model m = regularized_mlp(DType::f64);
  train::fit(m, data, nullptr, adam_epochs(1));
  io::test::TempDir dir;
  const auto path = dir / "m.dagrad";
  models::save_model(m, path);
  const std::vector<std::uint8_t> good = io::test::file_bytes(path);

  SECTION("a changed byte fails the checksum") {
    std::vector<std::uint8_t> bad = good;
    bad[bad.size() / 2] ^= 0x01;
    CHECK_THROWS_WITH(models::model_from_bytes(bad, "m.dagrad"), Catch::Contains("m.dagrad"));
  }
  SECTION("a truncated file is an input error") {
    for (std::size_t n : {std::size_t{0}, std::size_t{10}, good.size() / 2, good.size() - 1}) {
      const std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK_THROWS_AS(models::model_from_bytes(cut, "m.dagrad"), InputError);
    }
  }
  SECTION("a data file given as the model says it is no model file, not a zip detail") {
    io::test::put_text(dir / "d.csv", "x1,x2,label\n0.5,0.25,1\n");
    CHECK_THROWS_WITH(models::load_model(dir / "d.csv"),
                      Catch::Contains("d.csv: not a dagrad model file") && Catch::Contains("starts with \"x1,x2,label") &&
                          !Catch::Contains("zip archive at byte"));
  }
  SECTION("a parameter file is not a model") {
    io::save_params(dir / "p.npz", train::params_of(m), DType::f64);
    CHECK_THROWS_WITH(models::load_model(dir / "p.npz"),
                      Catch::Contains("p.npz") && Catch::Contains("not a dagrad-model file"));
  }
  SECTION("the features' scaling: absent in an older file is the default, a negative one is refused") {
    m.data_scale = 255;
    const std::vector<std::uint8_t> scaled = models::model_bytes(m);
    CHECK(models::model_from_bytes(scaled, "s.dagrad").data_scale == 255);
    const auto old = test::edited_model(scaled, [](test::ModelJson& j) { j.erase("data_scale"); });
    CHECK(models::model_from_bytes(old, "old.dagrad").data_scale == 0);
    const auto bad = test::edited_model(scaled, [](test::ModelJson& j) { j["data_scale"] = -2; });
    CHECK_THROWS_WITH(models::model_from_bytes(bad, "neg.dagrad"),
                      Catch::Contains("neg.dagrad") && Catch::Contains("'data_scale'"));
  }
  SECTION("NaN in a parameter is refused with its place") {
    // save_model writes no NaN: the file is a good one with W2.npy replaced.
    std::vector<double> w2(m.value("W2").size());
    for (std::size_t i = 0; i < w2.size(); ++i) w2[i] = m.value("W2").get(static_cast<std::int64_t>(i));
    w2[5] = std::numeric_limits<double>::quiet_NaN();
    const auto bad = test::edited_model(good, {}, [&](io::ZipArchive& a) {
      test::put_entry(a, "W2.npy", test::npy_of(m.value("W2").shape().rows, m.value("W2").shape().cols, w2));
    });
    CHECK_THROWS_WITH(models::model_from_bytes(bad, "nan.dagrad"),
                      Catch::Contains("nan.dagrad") && Catch::Contains("W2") &&
                          Catch::Contains("(0, 5)"));
  }
}
