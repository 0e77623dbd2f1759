// A model file is checked for meaning (issue 19, B7 and B8): every file
// dagrad saves passes, and a whole file (fresh CRCs, fresh checksum) whose
// model.json, graph.json or arrays contradict each other is refused with one
// line naming the file and the field. Also: minimize is all or nothing and
// takes no user's name for its own; fit refuses an optimizer it would ignore;
// labels of another shape than the output are refused, not broadcast.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/models/onnx.hpp"
#include "dagrad/models/validate.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/session.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/models/model_edit.hpp"
#include "tests/train/train_test_util.hpp"

#if DAGRAD_TEST_ONNX
#include <onnx/onnx_pb.h>
#endif

using namespace dagrad;
using test::ModelJson;

namespace {

train::FitOptions quiet(train::OptimizerKind kind, double decay = 0.0) {
  train::FitOptions o;
  o.iterations = 3;
  o.optimizer.kind = kind;
  o.optimizer.learning_rate = 0.01;
  o.optimizer.decay_rate = decay;
  o.out = nullptr;
  return o;
}

// The notes' 2,4,1 network trained 3 updates on the two moons, as bytes.
std::vector<std::uint8_t> trained_file(train::OptimizerKind kind, double decay = 0.0) {
  models::ModelSpec s;
  s.layers = {2, 4, 1};
  models::Model m = models::build_mlp(s);
  train::FitOptions o = quiet(kind, decay);
  o.normalize = true;
  train::fit(m, test::tiny_moons(20), nullptr, o);
  return models::model_bytes(m);
}

// The message of the InputError `bytes` load with, or "" when they load.
std::string refusal(const std::vector<std::uint8_t>& bytes) {
  try {
    models::model_from_bytes(bytes, "m.dagrad");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("every model file dagrad saves passes its meaning checks", "[models][validate]") {
  for (auto kind : {train::OptimizerKind::gd, train::OptimizerKind::momentum, train::OptimizerKind::rmsprop,
                    train::OptimizerKind::adam})
    for (double decay : {0.0, 0.1}) {
      INFO(train::name_of(kind) << " decay " << decay);
      CHECK(refusal(trained_file(kind, decay)) == "");
    }
  for (auto output : {models::Output::sigmoid, models::Output::softmax, models::Output::linear}) {
    models::ModelSpec s;
    s.layers = {2, 5, 3, 2};
    s.output = output;
    s.keep_prob = {0.8};
    s.l2 = 0.1;
    models::Model m = models::build_mlp(s, DType::f32);
    io::Dataset d = test::tiny_moons(20);
    if (output != models::Output::softmax) d.Y = io::Matrix({2, 20}, 1.0);  // two label rows
    train::fit(m, d, nullptr, quiet(train::OptimizerKind::adam));
    INFO(models::name_of(output));
    CHECK(refusal(models::model_bytes(m)) == "");
  }
  // A model that was never trained (no optimizer, no values yet).
  models::ModelSpec s;
  s.layers = {2, 3, 1};
  CHECK(refusal(models::model_bytes(models::build_mlp(s))) == "");
  // A graph of concrete shapes (20 samples, as version 1 graph files keep),
  // with initial values.
  models::Model fixed;
  Graph& g = fixed.graph();
  auto X = g.input("X", {2, 20});
  auto Y = g.input("Y", {1, 20});
  auto A = sigmoid(g.param("W1", {1, 2}) * X + g.param("b1", {1, 1})).named("A1");
  fixed.set_cost(binary_cross_entropy(A, Y).named("J"));
  fixed.set_output(A);
  fixed.init_params(1);
  CHECK(refusal(models::model_bytes(fixed)) == "");
}

TEST_CASE("a model file that contradicts itself is refused, naming the file and the field", "[models][validate]") {
  const std::vector<std::uint8_t> gd = trained_file(train::OptimizerKind::gd);
  const std::vector<std::uint8_t> adam = trained_file(train::OptimizerKind::adam, 0.1);
  REQUIRE(refusal(gd) == "");
  REQUIRE(refusal(adam) == "");
  using Edit = std::function<void(ModelJson&)>;
  using Zip = std::function<void(io::ZipArchive&)>;
  struct Case {
    std::string what;
    const std::vector<std::uint8_t>& good;
    Edit meta;
    Zip archive;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases{
      {"outputs: the features", gd, [](ModelJson& j) { j["outputs"] = {"X"}; }, {}, {"'outputs'", "'X'", "input"}},
      {"outputs: the cost", gd, [](ModelJson& j) { j["outputs"] = {"J"}; }, {}, {"'outputs'", "'J'", "(1x1)"}},
      {"outputs: a parameter", gd, [](ModelJson& j) { j["outputs"] = {"W1"}; }, {}, {"'outputs'", "'W1'", "param"}},
      {"outputs: a gradient", gd, [](ModelJson& j) { j["outputs"] = {"dW1"}; }, {}, {"'outputs'", "'dW1'", "backward"}},
      {"outputs: the learning rate", gd, [](ModelJson& j) { j["outputs"] = {"alpha"}; }, {},
       {"'outputs'", "'alpha'", "state"}},
      {"outputs: one twice", gd, [](ModelJson& j) { j["outputs"] = {"A2", "A2"}; }, {}, {"'outputs'", "twice"}},
      {"params: none", gd, [](ModelJson& j) { j["params"] = ModelJson::array(); }, {}, {"'params'", "no parameter"}},
      {"params: one twice", gd, [](ModelJson& j) { j["params"] = {"W1", "W1"}; }, {}, {"'params'", "twice"}},
      {"params: one left out", gd, [](ModelJson& j) { j["params"] = {"W1", "b1", "W2"}; }, {}, {"'params'", "b2"}},
      {"features and labels swapped", gd, [](ModelJson& j) { j["features"] = "Y", j["labels"] = "X"; }, {},
       {"'features'", "'Y'"}},
      {"features: a parameter", gd, [](ModelJson& j) { j["features"] = "W1"; }, {}, {"'features'", "not an input"}},
      {"labels: the features", gd, [](ModelJson& j) { j["labels"] = "X"; }, {}, {"'labels'", "'X'"}},
      {"cost: a gradient", gd, [](ModelJson& j) { j["cost"] = "dW1"; }, {}, {"'cost'", "dW1"}},
      {"adam on a gd graph", gd, [](ModelJson& j) { j["optimizer"]["kind"] = "adam"; }, {},
       {"'optimizer.kind'", "adam"}},
      {"momentum on a gd graph", gd, [](ModelJson& j) { j["optimizer"]["kind"] = "momentum"; }, {},
       {"'optimizer.kind'", "v_dW1"}},
      {"gd on an adam graph", adam, [](ModelJson& j) { j["optimizer"]["kind"] = "gd"; }, {}, {"'optimizer.kind'"}},
      {"no decay on a decaying graph", adam, [](ModelJson& j) { j["optimizer"]["decay_rate"] = 0.0; }, {},
       {"'optimizer.decay_rate'"}},
      {"beta1 other than the graph's", adam, [](ModelJson& j) { j["optimizer"]["beta1"] = 0.5; }, {},
       {"'optimizer.beta1'"}},
      {"learning rate other than alpha0's", adam, [](ModelJson& j) { j["optimizer"]["learning_rate"] = 0.5; }, {},
       {"'optimizer.learning_rate'", "0.5", "0.01"}},
      {"no optimizer on a graph with updates", gd, [](ModelJson& j) { j.erase("optimizer"); }, {},
       {"'optimizer'", "missing"}},
      {"spec of other layer sizes", gd, [](ModelJson& j) { j["spec"]["layers"] = {2, 5, 1}; }, {},
       {"'spec'", "2,5,1", "W1"}},
      {"spec of another activation", gd, [](ModelJson& j) { j["spec"]["hidden"] = "tanh"; }, {},
       {"'spec'", "tanh"}},
      {"more epochs than updates", gd, [](ModelJson& j) { j["epochs"] = 7; }, {}, {"'epochs'", "7"}},
      {"Adam's t = -1", adam, {}, [](io::ZipArchive& a) { test::put_entry(a, "t.npy", test::npy_of(1, 1, {-1.0})); },
       {"t = -1"}},
      {"Adam's t past the updates made", adam, {},
       [](io::ZipArchive& a) { test::put_entry(a, "t.npy", test::npy_of(1, 1, {1e6})); }, {"t = 1e+06"}},
      {"a negative s_dW", adam, {},
       [](io::ZipArchive& a) { test::put_entry(a, "s_db2.npy", test::npy_of(1, 1, {-0.25})); },
       {"s_db2", "negative", "-0.25"}},
      {"alpha0 = 0", adam, [](ModelJson& j) { j["optimizer"]["learning_rate"] = 1e-300; },
       [](io::ZipArchive& a) { test::put_entry(a, "alpha0.npy", test::npy_of(1, 1, {0.0})); }, {"alpha0", "> 0"}},
      {"the decaying alpha missing from the graph", adam, {},
       [](io::ZipArchive& a) {
         ModelJson g = test::json_entry(a, "graph.json");
         for (auto& n : g["nodes"])
           if (n.value("name", "") == "alpha") n["name"] = "alpha_renamed";
         test::put_json(a, "graph.json", g);
       },
       {"'optimizer'", "alpha"}},
      {"a duplicate entry", gd, {},
       [](io::ZipArchive& a) { a.entries.push_back({"W1.npy", test::zip_entry(a, "W1.npy")->data}); },
       {"W1.npy", "twice"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string message = refusal(test::edited_model(c.good, c.meta, c.archive));
    INFO(message);
    CHECK(message.starts_with("m.dagrad"));
    CHECK(message.find('\n') == std::string::npos);
    for (const std::string& e : c.expect) {
      INFO("expected fragment " << e);
      CHECK(message.find(e) != std::string::npos);
    }
  }
}

TEST_CASE("a model file holds finite values only: save refuses NaN", "[models][validate]") {
  models::ModelSpec s;
  s.layers = {2, 3, 1};
  models::Model m = models::build_mlp(s);
  train::fit(m, test::tiny_moons(20), nullptr, quiet(train::OptimizerKind::gd));
  m.value("W1").set(4, std::numeric_limits<double>::infinity());
  REQUIRE(models::non_finite_value(m).has_value());
  CHECK_THROWS_AS(models::model_bytes(m), NumericError);
  CHECK_THROWS_WITH(models::model_bytes(m), Catch::Contains("W1") && Catch::Contains("inf"));
}

TEST_CASE("a parameter named like the normalization's arrays is refused, not taken for them", "[models][validate]") {
  models::Model m;
  Graph& g = m.graph();
  auto X = g.input("X", {2, m_dim});
  auto Y = g.input("Y", {1, m_dim});
  auto W = g.param("norm_mu", {1, 2});
  auto b = g.param("b1", {1, 1});
  auto A = sigmoid(W * X + b).named("A1");
  m.set_cost(binary_cross_entropy(A, Y).named("J"));
  m.set_output(A);
  train::FitOptions o = quiet(train::OptimizerKind::gd);
  o.normalize = true;
  CHECK_THROWS_WITH(train::fit(m, test::tiny_moons(20), nullptr, o),
                    Catch::Contains("norm_mu") && Catch::Contains("reserved"));
  CHECK_THROWS_WITH(models::model_bytes(m), Catch::Contains("norm_mu") && Catch::Contains("reserved"));
}

TEST_CASE("minimize takes no name of the user's and changes nothing when it refuses", "[train][validate]") {
  for (const std::string taken : {"alpha", "t", "v_dW1", "s_dW1", "dW1", "v_corr_dW1"}) {
    INFO("a node named " << taken);
    Graph g(DType::f64);
    auto X = g.input("X", {2, m_dim});
    auto Y = g.input("Y", {1, m_dim});
    auto W = g.param("W1", {1, 2});
    auto extra = g.param(taken, {1, 1});
    auto J = binary_cross_entropy(sigmoid(W * X + extra), Y).named("J");
    const std::size_t before = g.size();
    train::OptimizerConfig c;
    c.kind = train::OptimizerKind::adam;
    const Expr params[] = {W, extra};
    CHECK_THROWS_WITH(train::minimize(J, params, c), Catch::Contains("'" + taken + "'") && Catch::Contains("rename"));
    CHECK(g.size() == before);
  }
  // Without a clash it appends the gradients, the state and the updates.
  Graph g(DType::f64);
  auto X = g.input("X", {2, m_dim});
  auto W = g.param("W1", {2, 2});
  auto J = sum(W * X, -1).named("J");
  const std::size_t before = g.size();
  const Expr params[] = {W};
  REQUIRE_NOTHROW(train::minimize(J, params, train::OptimizerConfig{}));
  CHECK(g.size() > before);
  CHECK(g.find("alpha").has_value());
  CHECK(g.find("dW1").has_value());
}

TEST_CASE("fit refuses an optimizer it would ignore on a minimized model", "[train][validate]") {
  models::ModelSpec s;
  s.layers = {2, 3, 1};
  models::Model m = models::build_mlp(s);
  train::fit(m, test::tiny_moons(20), nullptr, quiet(train::OptimizerKind::gd));
  train::FitOptions again = quiet(train::OptimizerKind::adam);
  again.iterations = 6;
  CHECK_THROWS_WITH(train::fit(m, test::tiny_moons(20), nullptr, again),
                    Catch::Contains("FitOptions::optimizer") && Catch::Contains("adam") && Catch::Contains("gd"));
  CHECK(m.steps == 3);
  // The same optimizer, or the default one, continues.
  train::FitOptions same = quiet(train::OptimizerKind::gd);
  same.iterations = 5;
  CHECK(train::fit(m, test::tiny_moons(20), nullptr, same).iterations == 2);
  train::FitOptions plain;
  plain.iterations = 6;
  plain.out = nullptr;
  CHECK(train::fit(m, test::tiny_moons(20), nullptr, plain).iterations == 1);
}

TEST_CASE("a layer number past an int64 in a graph's node name names no layer", "[models][validate]") {
  Graph g(DType::f64);
  auto X = g.input("X", {2, m_dim});
  auto Y = g.input("Y", {1, m_dim});
  auto W = g.param("W1", {1, 2});
  auto A = sigmoid(W * X).named("A99999999999999999999");
  auto A1 = sigmoid(W * X + 1.0).named("A1");
  binary_cross_entropy(A1, Y).named("J");
  (void)A;
  GraphFile f{std::move(g), {}};
  models::Model m = models::model_from_graph(std::move(f), "g.json");
  CHECK(m.output().name() == "A1");
}

TEST_CASE("labels of another shape than the output are refused with the fix, not broadcast", "[train][validate]") {
  models::ModelSpec s;
  s.layers = {2, 4, 3};  // three sigmoid units
  models::Model m = models::build_mlp(s);
  const io::Dataset d = test::tiny_moons(20);  // one row of 0/1 labels
  CHECK_THROWS_WITH(train::fit(m, d, nullptr, quiet(train::OptimizerKind::gd)),
                    Catch::Contains("tiny") && Catch::Contains("(1x20)") && Catch::Contains("Y") &&
                        Catch::Contains("(3xm)") && Catch::Contains("--output softmax") &&
                        Catch::Contains("--output linear"));
  s.output = models::Output::linear;
  models::Model lin = models::build_mlp(s);
  CHECK_THROWS_WITH(train::fit(lin, d, nullptr, quiet(train::OptimizerKind::gd)), Catch::Contains("(3xm)"));
  // A softmax of 3 units takes class numbers 0..2 as one-hot columns.
  s.output = models::Output::softmax;
  models::Model soft = models::build_mlp(s);
  CHECK(train::fit(soft, d, nullptr, quiet(train::OptimizerKind::gd)).iterations == 3);
}

#if DAGRAD_TEST_ONNX
TEST_CASE("an ONNX parameter named norm_mu is not taken for the normalization: saving refuses it", "[models][validate][onnx]") {
  models::ModelSpec s;
  s.layers = {2, 3, 1};
  models::Model m = models::build_mlp(s);
  train::FitOptions o = quiet(train::OptimizerKind::gd);
  o.normalize = true;
  train::fit(m, test::tiny_moons(20), nullptr, o);
  const std::vector<std::uint8_t> exported = models::onnx_bytes(m);
  onnx::ModelProto p;
  REQUIRE(p.ParseFromArray(exported.data(), static_cast<int>(exported.size())));
  // W1 renamed norm_mu, everywhere the graph reads it.
  bool renamed = false;
  for (auto& init : *p.mutable_graph()->mutable_initializer())
    if (init.name() == "W1") init.set_name("norm_mu"), renamed = true;
  for (auto& n : *p.mutable_graph()->mutable_node())
    for (auto& in : *n.mutable_input())
      if (in == "W1") in = "norm_mu";
  REQUIRE(renamed);
  std::string bytes;
  REQUIRE(p.SerializeToString(&bytes));
  const models::Model imported =
      models::import_onnx_bytes(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), "mu.onnx");
  REQUIRE(imported.normalization.has_value());
  CHECK_THROWS_WITH(models::model_bytes(imported), Catch::Contains("norm_mu") && Catch::Contains("reserved"));
}
#endif
