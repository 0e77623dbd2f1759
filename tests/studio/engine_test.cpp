// The studio's engine through its Api, without sockets: each answer is
// compared with what the library computes on its own (train::fit, the
// notes' formulas by hand, the executor's schedule, the CLI's data loader).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/io/dataset.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/models/onnx.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/optim/registry.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/studio/engine.hpp"
#include "dagrad/train/data.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/synthetic.hpp"
#include "dagrad/viz/dot.hpp"
#include "dagrad/viz/notation.hpp"
#include "tests/robustness/cli_run.hpp"

using nlohmann::json;
using namespace dagrad;

namespace {

const char* planar_241 =
    R"({"data": "planar", "samples": 400, "dev": 0.2, "layers": [2, 4, 1], "hidden": "tanh",
        "output": "sigmoid", "init": "small", "lr": 1.2, "optimizer": "gd", "seed": 3})";

struct Client {
  std::unique_ptr<studio::Api> api;
  explicit Client(const std::string& config = planar_241, studio::EngineOptions o = {}) {
    o.config = config;
    api = studio::make_engine(o);
  }
  studio::ApiResponse call(const std::string& method, const std::string& path,
                           std::map<std::string, std::string> query = {}, const std::string& body = "") {
    return api->handle({method, path, std::move(query), body});
  }
  json get(const std::string& path, std::map<std::string, std::string> query = {}) {
    const studio::ApiResponse r = call("GET", path, std::move(query));
    INFO(path << ": " << r.body.substr(0, 300));
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  json post(const std::string& path, const json& body) {
    const studio::ApiResponse r = call("POST", path, {}, body.dump());
    INFO(path << ": " << r.body.substr(0, 300));
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  json upload(const std::string& csv) {
    const studio::ApiResponse r = call("POST", "data", {}, csv);
    INFO("data: " << r.body.substr(0, 300));
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  json control(const std::string& action) { return post("control", {{"action", action}}); }
  // The costs of updates 0..n-1 made one `step` at a time.
  std::vector<double> step_costs(int n) {
    std::vector<double> out;
    for (int k = 0; k < n; ++k) out.push_back(control("step")["cost"].get<double>());
    return out;
  }
  // A node's whole value (rows x cols), row-major.
  std::vector<double> value(const std::string& name, std::int64_t& rows, std::int64_t& cols) {
    json v = get("node", {{"name", name}, {"rows", "8"}, {"cols", "500"}});
    rows = v["dims"][0];
    cols = v["dims"][1];
    REQUIRE(v["value"]["rows"] == rows);
    REQUIRE(v["value"]["cols"] == cols);
    std::vector<double> out;
    for (const json& row : v["value"]["data"])
      for (const json& x : row) out.push_back(x.get<double>());
    return out;
  }
};

std::filesystem::path temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "dagrad-engine-test-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

bool have_graphviz() {
  try {
    viz::check_dot_path("x.svg");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

TEST_CASE("studio engine: planar 2-4-1 makes train::fit's updates, and the cost falls", "[studio]") {
  Client c;
  const std::vector<double> costs = c.step_costs(300);
  // The same net, data, split and seed through train::fit alone.
  models::ModelSpec spec;
  spec.layers = {2, 4, 1};
  spec.hidden = models::Activation::tanh;
  spec.output = models::Output::sigmoid;
  spec.seed = 3;
  models::Model model = models::build_mlp(spec);
  model.seed = 3;
  model.set_init(models::Init::small);
  const auto [train_set, dev_set] = io::split_train_dev(train::make_planar(400, 3), 0.2, 3);
  train::FitOptions fo;
  fo.iterations = 300;
  fo.optimizer.learning_rate = 1.2;
  fo.out = nullptr;
  const train::FitResult r = train::fit(model, train_set, nullptr, fo);
  REQUIRE(r.costs.size() == costs.size());
  for (std::size_t k = 0; k < costs.size(); ++k) REQUIRE(costs[k] == r.costs[k]);
  CHECK(costs.back() < 0.8 * costs.front());
  const json s = c.get("state");
  CHECK(s["iteration"] == 300);
  CHECK(s["accuracy"].get<double>() == Approx(train::evaluate(model, train_set).accuracy));
  CHECK(s["dev_cost"].get<double>() == Approx(train::evaluate(model, dev_set).cost));
}

TEST_CASE("studio engine: reset rewinds to the same initial weights, costs bit for bit", "[studio]") {
  for (const char* config :
       {planar_241, R"({"data": "moons", "samples": 300, "layers": "2,6,5,1", "hidden": "relu",
                       "keep": 0.8, "optimizer": "adam", "lr": 0.01, "batch": 32, "init": "he",
                       "l2": 0.1, "seed": 9})",
        R"({"data": "circles", "layers": "2,5,1", "dtype": "f32", "batch": 50, "optimizer": "momentum",
            "lr": 0.3})"}) {
    INFO(config);
    Client c(config);
    const std::vector<double> first = c.step_costs(25);
    c.control("epoch");
    const json s = c.get("state");
    REQUIRE(s["iteration"].get<std::int64_t>() % s["per_epoch"].get<std::int64_t>() == 0);
    c.control("reset");
    CHECK(c.get("state")["iteration"] == 0);
    const std::vector<double> again = c.step_costs(25);
    for (std::size_t k = 0; k < first.size(); ++k) CHECK(first[k] == again[k]);
  }
}

TEST_CASE("studio engine: dZ[2]'s value is A[2] - Y from the forward pass by hand", "[studio]") {
  Client c;
  c.step_costs(7);
  std::int64_t r = 0, k = 0;
  const std::vector<double> W1 = c.value("W[1]", r, k);
  REQUIRE((r == 4 && k == 2));
  const std::vector<double> b1 = c.value("b[1]", r, k);
  const std::vector<double> W2 = c.value("W[2]", r, k);
  REQUIRE((r == 1 && k == 4));
  const std::vector<double> b2 = c.value("b[2]", r, k);
  std::int64_t xr = 0, m = 0;
  const std::vector<double> X = c.value("X", xr, m);
  REQUIRE((xr == 2 && m == 320));
  const std::vector<double> Y = c.value("Y", r, k);
  std::int64_t dr = 0, dc = 0;
  const std::vector<double> dZ2 = c.value("dZ[2]", dr, dc);
  REQUIRE((dr == 1 && dc == m));
  // The notes' forward pass: Z1 = W1 X + b1, A1 = tanh(Z1), A2 = sigmoid(W2 A1 + b2).
  for (std::int64_t j = 0; j < m; ++j) {
    double z2 = b2[0];
    for (int u = 0; u < 4; ++u) {
      const double z1 = W1[u * 2] * X[j] + W1[u * 2 + 1] * X[m + j] + b1[u];
      z2 += W2[u] * std::tanh(z1);
    }
    const double a2 = 1.0 / (1.0 + std::exp(-z2));
    REQUIRE(dZ2[j] == Approx(a2 - Y[j]).margin(1e-12));
  }
  const json node = c.get("node", {{"name", "dZ[2]"}});
  CHECK(node["equation"] == "dZ[2] = A[2] - Y");
  CHECK(node["shape"] == "1 x m");
  CHECK(node["phase"] == "backward");
  CHECK(node["op"] == "sub");
  CHECK(node["inputs"] == json({"A[2]", "Y"}));
  // One element with its numbers plugged in.
  const json step = c.get("node", {{"name", "dZ[2]"}, {"row", "0"}, {"col", "3"}});
  const std::string plugged = step["plugged"];
  CHECK(plugged.rfind("dZ[2][0,3] = ", 0) == 0);
  CHECK(plugged.find(" - ") != std::string::npos);
  // The nodes keep explain's names: dZ[1] = W[2]^T dZ[2] * ... for tanh.
  CHECK(c.get("node", {{"name", "dW[2]"}})["equation"] == "dW[2] = 1/m dZ[2] A[1]^T");
  CHECK(c.call("GET", "node", {{"name", "nope"}}).status == 400);
}

TEST_CASE("studio engine: an activation per hidden layer", "[studio]") {
  Client c(R"({"data": "moons", "layers": "2,5,4,3,1", "hidden": "relu,tanh,sigmoid", "init": "he",
              "lr": 0.3, "seed": 5})");
  CHECK(c.get("config")["hidden"] == json({"relu", "tanh", "sigmoid"}));
  c.step_costs(3);
  CHECK(c.get("node", {{"name", "A[1]"}})["op"] == "relu");
  CHECK(c.get("node", {{"name", "A[2]"}})["op"] == "tanh");
  CHECK(c.get("node", {{"name", "A[3]"}})["op"] == "sigmoid");
  // A[2] = tanh(Z[2]) element by element.
  std::int64_t r = 0, k = 0, r2 = 0, k2 = 0;
  const std::vector<double> Z2 = c.value("Z[2]", r, k), A2 = c.value("A[2]", r2, k2);
  REQUIRE((r == r2 && k == k2 && r * k > 0));
  for (std::size_t q = 0; q < Z2.size(); ++q) CHECK(A2[q] == Approx(std::tanh(Z2[q])));
  // The model file keeps them: --model opens the same net.
  const studio::ApiResponse m = c.call("GET", "download", {{"what", "model"}});
  const models::Model saved =
      models::model_from_bytes(std::vector<std::uint8_t>(m.body.begin(), m.body.end()), "download");
  REQUIRE(saved.spec);
  CHECK(saved.spec->hidden_each == std::vector<models::Activation>{models::Activation::relu,
                                                                    models::Activation::tanh,
                                                                    models::Activation::sigmoid});
  // One name when they agree; a count that does not fit is refused.
  CHECK(c.post("config", {{"hidden", "tanh,tanh,tanh"}})["hidden"] == json({"tanh"}));
  CHECK(c.call("POST", "config", {}, R"({"hidden": "relu,tanh"})").status == 400);
}

TEST_CASE("studio engine: each node's equation is the line `dagrad explain` prints", "[studio]") {
  Client c(R"({"layers": "2,4,1", "hidden": "tanh", "optimizer": "adam", "lr": 0.01})");
  std::set<std::string> equations;
  for (const json& n : c.get("nodes"))
    if (n["phase"] != "forward" && !n["equation"].get<std::string>().empty())
      equations.insert(n["equation"].get<std::string>());
  const std::filesystem::path dir = temp_dir();
  const robustness::CliResult r = robustness::run_cli(
      dir, {"explain", "--layers", "2,4,1", "--hidden", "tanh", "--optimizer", "adam", "--lr", "0.01"});
  std::filesystem::remove_all(dir);
  REQUIRE(r.exit_code == 0);
  // "dZ[2] = A[2] - Y        (1 x m)": the equation, then the shape.
  std::istringstream lines(r.out);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    const std::size_t shape = line.rfind("  (");
    REQUIRE(shape != std::string::npos);
    std::string eq = line.substr(0, shape);
    eq.erase(eq.find_last_not_of(' ') + 1);
    INFO(eq);
    CHECK(equations.count(eq) == 1);
    ++count;
  }
  CHECK(count == equations.size());
  CHECK(count > 20);  // Adam's moments and corrections are lines too
}

TEST_CASE("studio engine: step-through walks the executor's schedule", "[studio]") {
  Client c;
  const json nodes = c.get("nodes");
  // The same model built alone, and the plan of its whole step.
  models::ModelSpec spec;
  spec.layers = {2, 4, 1};
  spec.hidden = models::Activation::tanh;
  spec.seed = 3;
  models::Model model = models::build_mlp(spec);
  train::OptimizerConfig oc;
  oc.learning_rate = 1.2;
  model.minimize(oc);
  const viz::Derivation d = viz::derivation_of(model);
  std::vector<NodeId> outputs = d.outputs();
  if (d.prediction) outputs.push_back(*d.prediction);
  const runtime::Executor exec(d.graph, outputs);
  const std::span<const NodeId> schedule = exec.schedule();
  REQUIRE(nodes.size() == schedule.size());
  bool seen_backward = false, seen_update = false;
  for (std::size_t k = 0; k < schedule.size(); ++k) {
    const Node& n = d.graph.node(schedule[k]);
    const json s = c.get("step", {{"index", std::to_string(k)}});
    CHECK(s["op"] == std::string(ops::op_def(n.op).name));
    CHECK(s["node"] == nodes[k]["node"]);
    CHECK(s["count"] == schedule.size());
    if (!n.name.empty() && n.role != Role::update && n.op != OpKind::assign)
      CHECK(s["node"] == d.notation.name(n.name));
    seen_backward = seen_backward || s["phase"] == "backward";
    seen_update = seen_update || s["phase"] == "update";
  }
  CHECK(seen_backward);
  CHECK(seen_update);
  CHECK(c.call("GET", "step", {{"index", std::to_string(schedule.size())}}).status == 400);
}

TEST_CASE("studio engine: gradient check per parameter", "[studio]") {
  // Xavier's weights: with 0.01 randn a 3-layer net's gradients are ~1e-9,
  // below what central differences with eps = 1e-7 resolve.
  Client c(R"({"data": "moons", "layers": "2,5,3,1", "hidden": "tanh", "l2": 0.3, "seed": 2,
              "init": "xavier", "lr": 0.5})");
  c.step_costs(10);
  const json g = c.get("gradcheck");
  REQUIRE(g.size() == 6);
  const std::vector<std::string> names{"W[1]", "b[1]", "W[2]", "b[2]", "W[3]", "b[3]"};
  for (std::size_t k = 0; k < g.size(); ++k) {
    CHECK(g[k]["param"] == names[k]);
    CHECK(g[k]["rel_error"].get<double>() < 1e-6);
    CHECK(g[k]["checked"] > 0);
  }
}

TEST_CASE("studio engine: the optimizers are the registry's, with the hyper-parameters each reads", "[studio]") {
  Client c;
  const json list = c.get("optimizers")["optimizers"];
  std::vector<std::string> names;
  std::map<std::string, std::set<std::string>> hyper;
  for (const json& o : list) {
    names.push_back(o["name"]);
    for (const json& h : o["hyper"]) hyper[o["name"]].insert(h.get<std::string>());
  }
  CHECK(names == optim::optimizer_names());
  // What each update reads, from the update equations (optim/*.cpp's comments):
  // gd none; momentum its beta; RMSprop s's beta2 and epsilon; Adam both
  // moments and epsilon; AdamW those and the decoupled weight decay.
  CHECK(hyper["gd"].empty());
  CHECK(hyper["momentum"] == std::set<std::string>{"beta1"});
  CHECK(hyper["rmsprop"] == std::set<std::string>{"beta2", "epsilon"});
  CHECK(hyper["adam"] == std::set<std::string>{"beta1", "beta2", "epsilon"});
  CHECK(hyper["adamw"] == std::set<std::string>{"beta1", "beta2", "epsilon", "weight_decay"});
  // Every key it names is a configuration key the server takes.
  const json cfg = c.get("config");
  for (const auto& [name, keys] : hyper)
    for (const std::string& k : keys) CHECK(cfg.contains(k));
  // AdamW's weight decay reaches the model the studio trains and saves.
  const json set = c.post("config", {{"optimizer", "adamw"}, {"lr", 0.01}, {"weight_decay", 0.05}});
  CHECK(set["weight_decay"] == 0.05);
  const studio::ApiResponse file = c.call("GET", "download", {{"what", "model"}});
  REQUIRE(file.status == 200);
  const models::Model m = models::model_from_bytes(
      std::span(reinterpret_cast<const std::uint8_t*>(file.body.data()), file.body.size()), "studio.dagrad");
  CHECK(m.optimizer().kind == optim::OptimizerKind::adamw);
  CHECK(m.optimizer().weight_decay == 0.05);
  const studio::ApiResponse bad = c.call("POST", "config", {}, R"({"weight_decay": -0.5})");
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("weight_decay"));
  CHECK(c.call("POST", "optimizers", {}, "{}").status == 405);
}

TEST_CASE("studio engine: a bad configuration is a 400 naming the field", "[studio]") {
  Client c;
  const std::vector<std::pair<json, std::string>> bad{
      {{{"lr", "nan"}}, "lr"},
      {{{"lr", -1}}, "lr"},
      {{{"layers", "2,0,1"}}, "layers: n[1]"},
      {{{"layers", "2,1000000,1"}}, "layers: n[1]"},
      {{{"layers", "2,4,4,4,4,4,4,4,4,4,1"}}, "layers"},
      {{{"layers", "3,4,1"}}, "n[0]"},
      {{{"layers", "2,256,256,256,256,256,1"}}, "parameters"},
      {{{"data", "spiral"}}, "data"},
      {{{"samples", 1e9}}, "samples"},
      {{{"keep", 0}}, "keep"},
      {{{"keep", "0.5,0.5"}}, "keep"},
      {{{"hidden", "swish"}}, "hidden"},
      {{{"dtype", "f16"}}, "dtype"},
      {{{"batch", 1.5}}, "batch"},
      {{{"seed", -1}}, "seed"},
      {{{"beta1", 1}}, "beta1"},
      {{{"output", "softmax"}}, "softmax"},
      {{{"colour", "red"}}, "colour"},
      {{{"data", "upload"}}, "upload"},
  };
  for (const auto& [body, field] : bad) {
    const studio::ApiResponse r = c.call("POST", "config", {}, body.dump());
    INFO(body.dump() << " -> " << r.body);
    CHECK(r.status == 400);
    const std::string error = json::parse(r.body)["error"];
    CHECK(error.find(field) != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
  }
  CHECK(c.call("POST", "config", {}, "{not json").status == 400);
  CHECK(c.call("POST", "control", {}, R"({"action": "fly"})").status == 400);
  CHECK(c.call("POST", "control", {}, R"({"speed": 0})").status == 400);
  CHECK(c.call("GET", "boundary", {{"size", "100000"}}).status == 400);
  CHECK(c.call("GET", "elsewhere").status == 404);
  // The run it had is untouched.
  CHECK(c.get("config")["layers"] == json({2, 4, 1}));
  // A good one rebuilds: the whole configuration comes back.
  const json ok = c.post("config", {{"layers", "2,3,1"}, {"lr", "0.5"}});
  CHECK(ok["layers"] == json({2, 3, 1}));
  CHECK(ok["lr"] == 0.5);
}

TEST_CASE("studio engine: an uploaded CSV goes through the CLI's loader and messages", "[studio]") {
  Client c;
  const std::string bad = "x1,x2,label\n0.5,1.5,0\n1,abc,1\n";
  const studio::ApiResponse r = c.call("POST", "data", {}, bad);
  REQUIRE(r.status == 400);
  // The CLI's own message for the same text in a file of that name.
  const std::filesystem::path dir = temp_dir();
  const std::filesystem::path file = dir / "upload.csv";
  std::ofstream(file) << bad;
  std::string cli;
  try {
    train::DataOptions o;
    o.class_labels = false;
    train::load_data(file, o);
  } catch (const std::exception& e) {
    cli = e.what();
  }
  std::filesystem::remove_all(dir);
  const std::string prefix = file.string();
  REQUIRE(cli.rfind(prefix, 0) == 0);
  CHECK(json::parse(r.body)["error"] == "upload.csv" + cli.substr(prefix.size()));
  CHECK(cli.find(":3:") != std::string::npos);  // the line of the bad row

  // Three classes: a softmax output over n[L] = 3.
  std::string blobs = "a,b,y\n";
  for (int i = 0; i < 60; ++i)
    blobs += std::to_string(i % 3 + 0.1 * std::sin(i)) + "," + std::to_string(0.2 * std::cos(i)) + "," +
             std::to_string(i % 3) + "\n";
  const json info = c.upload(blobs);
  CHECK(info["samples"] == 60);
  CHECK(info["features"] == 2);
  CHECK(info["classes"] == 3);
  CHECK(info["config"]["output"] == "softmax");
  CHECK(info["config"]["layers"] == json({2, 4, 3}));
  c.step_costs(20);
  const json s = c.get("state");
  CHECK(s["accuracy"].is_number());
  CHECK(s["r2"].is_null());

  // Real labels: a regression with a linear output, and R^2 in the state.
  std::string line = "x,z,y\n";
  for (int i = 0; i < 50; ++i) line += std::to_string(0.1 * i) + "," + std::to_string(std::sin(i)) + "," +
                                      std::to_string(0.3 * i + 0.01) + "\n";
  const json reg = c.upload(line);
  CHECK(reg["classes"] == 0);
  CHECK(reg["config"]["output"] == "linear");
  c.post("config", {{"lr", 0.05}});
  c.step_costs(50);
  const json rs = c.get("state");
  CHECK(rs["accuracy"].is_null());
  CHECK(rs["r2"].is_number());
}

TEST_CASE("studio engine: boundary over the input plane, with each hidden unit", "[studio]") {
  Client c;
  c.step_costs(5);
  const json b = c.get("boundary", {{"size", "8"}, {"units", "4"}});
  CHECK(b["size"] == 8);
  REQUIRE(b["grid"].size() == 64);
  for (const json& v : b["grid"]) CHECK((v.get<double>() >= 0 && v.get<double>() <= 1));
  REQUIRE(b["units"].size() == 4);
  for (const json& u : b["units"]) {
    CHECK(u[0] == 1);
    CHECK(u[2].size() == 16);
    for (const json& v : u[2]) CHECK(std::abs(v.get<double>()) <= 1.0);  // tanh
  }
  CHECK(b["points"].size() == 320);
  CHECK(b["dev_points"].size() == 80);
  // A 3-feature upload has no plane.
  c.upload("a,b,c,y\n1,2,3,0\n2,3,4,1\n3,1,2,0\n4,4,4,1\n");
  CHECK(c.call("GET", "boundary").status == 400);
}

TEST_CASE("studio engine: play trains in the background while requests come from several threads",
          "[studio]") {
  Client c;
  c.control("play");
  std::vector<std::thread> tabs;
  std::atomic<int> failures{0};
  for (int t = 0; t < 3; ++t)
    tabs.emplace_back([&] {
      for (int k = 0; k < 15; ++k) {
        for (const char* path : {"state", "nodes", "boundary"})
          if (c.call("GET", path).status != 200) ++failures;
        if (c.call("GET", "node", {{"name", "dW[1]"}}).status != 200) ++failures;
      }
    });
  std::string event;
  std::uint64_t seq = 0;
  for (int k = 0; k < 3; ++k) seq = c.api->next_event(seq, std::chrono::milliseconds(2000), event);
  for (std::thread& t : tabs) t.join();
  c.control("pause");
  CHECK(failures == 0);
  CHECK(seq > 0);
  CHECK(json::parse(event).contains("iteration"));
  const json s = c.get("state");
  CHECK(s["running"] == false);
  CHECK(s["iteration"].get<std::int64_t>() > 0);
  const std::int64_t at = s["iteration"];
  CHECK(c.get("state")["iteration"] == at);  // paused: no more updates
}

TEST_CASE("studio engine: downloads, and --model opens a saved model to resume it", "[studio]") {
  Client c;
  c.step_costs(12);
  const studio::ApiResponse m = c.call("GET", "download", {{"what", "model"}});
  REQUIRE(m.status == 200);
  CHECK(m.filename == "model.dagrad");
  const std::vector<std::uint8_t> bytes(m.body.begin(), m.body.end());
  const models::Model saved = models::model_from_bytes(bytes, "download");
  CHECK(saved.steps == 12);
  const studio::ApiResponse costs = c.call("GET", "download", {{"what", "costs"}});
  REQUIRE(costs.status == 200);
  CHECK(std::count(costs.body.begin(), costs.body.end(), '\n') == 13);
  const studio::ApiResponse tex = c.call("GET", "download", {{"what", "latex"}});
  CHECK(tex.body.find("\\begin{aligned}") != std::string::npos);
  if (have_graphviz()) {
    const studio::ApiResponse svg = c.call("GET", "graph");
    REQUIRE(svg.status == 200);
    CHECK(svg.body.find("data-node=\"dZ[2]\"") != std::string::npos);
    CHECK(svg.body.find("data-node=\"W[1]\"") != std::string::npos);
    // Without the data-node attributes, the SVG `dagrad dot` writes.
    const std::filesystem::path dir = temp_dir();
    const robustness::CliResult r = robustness::run_cli(
        dir, {"dot", "--layers", "2,4,1", "--hidden", "tanh", "--optimizer", "gd", "--lr", "1.2", "-o", "g.svg"});
    const std::string cli = robustness::slurp(dir / "g.svg");
    std::filesystem::remove_all(dir);
    REQUIRE(r.exit_code == 0);
    std::string mine = svg.body;
    for (std::size_t at; (at = mine.find(" data-node=\"")) != std::string::npos;)
      mine.erase(at, mine.find('"', at + 12) + 1 - at);
    CHECK(mine == cli);
  }
  const std::vector<double> next = c.step_costs(3);

  const std::filesystem::path dir = temp_dir();
  const std::filesystem::path file = dir / "saved.dagrad";
  std::ofstream(file, std::ios::binary).write(m.body.data(), static_cast<std::streamsize>(m.body.size()));
  studio::EngineOptions o;
  o.model_path = file.string();
  o.generate = "planar";
  Client resumed("", o);
  std::filesystem::remove_all(dir);
  CHECK(resumed.get("state")["iteration"] == 12);
  CHECK(resumed.get("config")["model"] == file.string());
  // With the same data split (seed 3 from the model) it makes the same next updates.
  const std::vector<double> again = resumed.step_costs(3);
  for (std::size_t k = 0; k < 3; ++k) CHECK(again[k] == next[k]);
  resumed.control("reset");
  CHECK(resumed.get("state")["iteration"] == 12);
  CHECK(resumed.get("nodes").size() > 10);
}

TEST_CASE("studio engine: zeros keep every hidden unit the same (symmetry is never broken)",
          "[studio]") {
  Client c(R"({"data": "moons", "layers": "2,3,1", "hidden": "tanh", "init": "zeros", "lr": 0.5})");
  c.step_costs(30);
  std::int64_t r = 0, k = 0;
  const std::vector<double> W1 = c.value("W[1]", r, k);
  REQUIRE((r == 3 && k == 2));
  for (std::int64_t u = 1; u < 3; ++u)
    for (std::int64_t j = 0; j < 2; ++j) CHECK(W1[u * 2 + j] == W1[j]);
  const std::vector<double> W2 = c.value("W[2]", r, k);
  CHECK((W2[0] == W2[1] && W2[1] == W2[2]));
}

TEST_CASE("studio engine: the ONNX download where the build has ONNX", "[studio]") {
  Client c;
  c.step_costs(4);
  const studio::ApiResponse r = c.call("GET", "download", {{"what", "onnx"}});
  if (!models::onnx_available()) {
    CHECK(r.status == 400);
    return;
  }
  REQUIRE(r.status == 200);
  CHECK(r.filename == "model.onnx");
  // Read back by the importer, it predicts what the model predicts.
  models::Model back = models::import_onnx_bytes(
      std::vector<std::uint8_t>(r.body.begin(), r.body.end()), "model.onnx");
  const studio::ApiResponse m = c.call("GET", "download", {{"what", "model"}});
  models::Model mine = models::model_from_bytes(std::vector<std::uint8_t>(m.body.begin(), m.body.end()), "m");
  const io::Dataset d = train::make_planar(20, 8);
  const io::Matrix a = train::predict(back, d.X), b = train::predict(mine, d.X);
  REQUIRE(a.values.size() == b.values.size());
  for (std::size_t q = 0; q < a.values.size(); ++q) CHECK(a.values[q] == Approx(b.values[q]));
}

TEST_CASE("studio engine: --model opens a DSL graph's model and resumes it as train::fit would",
          "[studio]") {
  // A residual net written with the DSL (no MLP spec), trained a little and saved.
  const auto build = [] {
    models::Model model;
    Graph& g = model.graph();
    auto X = g.input("X", {2, m_dim});
    auto Y = g.input("Y", {1, m_dim});
    auto W1 = g.param("W1", {6, 2}), b1 = g.param("b1", {6, 1});
    auto W2 = g.param("W2", {6, 6}), b2 = g.param("b2", {6, 1});
    auto W3 = g.param("W3", {1, 6}), b3 = g.param("b3", {1, 1});
    auto A1 = tanh(W1 * X + b1).named("A1");
    auto A2 = (tanh(W2 * A1 + b2) + A1).named("A2");
    auto A3 = sigmoid(W3 * A2 + b3).named("A3");
    model.set_cost(binary_cross_entropy(A3, Y).named("J"));
    model.set_output(A3);
    model.seed = 4;
    return model;
  };
  const auto [train_set, dev_set] = io::split_train_dev(train::make_planar(400, 4), 0.2, 4);
  models::Model model = build();
  train::FitOptions fo;
  fo.epochs = 3;
  fo.batch_size = 64;
  fo.optimizer.kind = train::OptimizerKind::adam;
  fo.optimizer.learning_rate = 0.01;
  fo.out = nullptr;
  train::fit(model, train_set, nullptr, fo);
  const std::filesystem::path dir = temp_dir();
  const std::filesystem::path file = dir / "residual.dagrad";
  models::save_model(model, file);

  studio::EngineOptions o;
  o.model_path = file.string();
  Client c("", o);
  const json cfg = c.get("config");
  CHECK(cfg["batch"] == 64);
  CHECK(cfg["optimizer"] == "adam");
  CHECK(c.get("state")["iteration"] == model.steps);
  const std::vector<double> costs = c.step_costs(7);
  // The same model read back and fit 7 updates further.
  models::Model again = models::load_model(file);
  std::filesystem::remove_all(dir);
  train::FitOptions more = fo;
  more.epochs = 0;
  more.iterations = again.steps + 7;
  const train::FitResult r = train::fit(again, train_set, nullptr, more);
  REQUIRE(r.costs.size() == 7);
  for (std::size_t k = 0; k < 7; ++k) CHECK(costs[k] == r.costs[k]);

  // Its derivation in the same views: every node named once, values, gradcheck.
  const json nodes = c.get("nodes");
  std::set<std::string> names;
  for (const json& n : nodes) names.insert(n["node"].get<std::string>());
  CHECK(names.size() == nodes.size());
  CHECK(names.count("A[2]") == 1);
  CHECK(names.count("J") == 1);
  const json j = c.get("node", {{"name", "J"}});
  CHECK(j["dims"] == json({1, 1}));
  CHECK(j["value"]["data"][0][0].get<double>() > 0);
  CHECK(j["phase"] == "forward");
  for (const json& g : c.get("gradcheck")) CHECK(g["rel_error"].get<double>() < 1e-5);
  if (have_graphviz()) {
    const std::string svg = c.call("GET", "graph").body;
    for (const std::string& n : names)
      if (n.find(':') == std::string::npos) CHECK(svg.find("data-node=\"" + n + "\"") != std::string::npos);
  }
  const json b = c.get("boundary", {{"size", "4"}, {"units", "2"}});
  CHECK(b["units"].size() == 12);  // A1 and A2: 6 units each
}

// A benchmark, not a test (hidden; nothing asserted on time): planar 2-4-1's
// updates a second through train::fit (what `dagrad train` runs) and through
// the engine while a "page" takes every event and asks for a 64x64 boundary
// with each, as studio.js does once per frame.
//   dagrad_tests "[studio-bench]"
TEST_CASE("studio engine: training speed beside train::fit", "[.][studio-bench]") {
  runtime::set_threads(1);
  // Rounds alternate, so that a machine busy with other work slows both alike.
  for (int round = 0; round < 3; ++round) {
    const std::int64_t iterations = 40000;
    models::ModelSpec spec;
    spec.layers = {2, 4, 1};
    spec.hidden = models::Activation::tanh;
    spec.seed = 3;
    models::Model model = models::build_mlp(spec);
    model.set_init(models::Init::small);
    const auto [train_set, dev_set] = io::split_train_dev(train::make_planar(400, 3), 0.2, 3);
    train::FitOptions fo;
    fo.iterations = iterations;
    fo.optimizer.learning_rate = 1.2;
    fo.out = nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    train::fit(model, train_set, nullptr, fo);
    const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double fit_rate = double(iterations) / fit_s;

    Client c;
    std::atomic<bool> done{false};
    std::atomic<int> frames{0};
    std::thread page([&] {
      std::uint64_t seq = 0;
      std::string event;
      while (!done) {
        const std::uint64_t next = c.api->next_event(seq, std::chrono::milliseconds(100), event);
        if (next == seq) continue;
        seq = next;
        if (c.call("GET", "boundary", {{"size", "64"}}).status == 200) ++frames;
      }
    });
    const auto t1 = std::chrono::steady_clock::now();
    c.control("play");
    std::this_thread::sleep_for(std::chrono::duration<double>(fit_s));
    const json s = c.control("pause");
    const double engine_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    done = true;
    page.join();
    const double engine_rate = s["iteration"].get<double>() / engine_s;
    // The engine alone, no page asking.
    Client quiet;
    const auto t2 = std::chrono::steady_clock::now();
    quiet.control("play");
    std::this_thread::sleep_for(std::chrono::duration<double>(fit_s));
    const json q = quiet.control("pause");
    const double quiet_rate =
        q["iteration"].get<double>() / std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
    WARN(fmt::format("planar 2-4-1, round {}: train::fit {:.0f} updates/s; the engine {:.0f} updates/s "
                     "with {} boundary frames ({:.1f}/s): {:.1f}%; the engine alone {:.0f}: {:.1f}%",
                     round, fit_rate, engine_rate, frames.load(), frames / engine_s,
                     100 * engine_rate / fit_rate, quiet_rate, 100 * quiet_rate / fit_rate));
  }
}
