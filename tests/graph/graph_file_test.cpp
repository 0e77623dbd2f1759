// Graph files: round trip (same bytes, same graph), and a clear error naming
// the file and the node for each kind of bad file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/dagrad.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/ops/op.hpp"
#include "tests/support/same_node.hpp"

using namespace dagrad;
namespace fs = std::filesystem;

namespace {

// The notes' L-layer net with dropout, L2 and its backward pass: every op
// attribute the builder uses (scale, offset, keep_prob, seed, count, axis,
// trans flags) appears in it.
Graph notes_graph(DType dtype = DType::f64) {
  Graph g(dtype);
  models::ModelSpec s;
  s.layers = {4, 5, 3, 1};
  s.hidden = models::Activation::leaky_relu;
  s.l2 = 0.7;
  s.keep_prob = {0.8, 0.9};
  auto model = models::build_mlp(g, s, 6);
  gradients(model.J, model.params());
  return g;
}

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / fmt::format("dagrad_graph_file_{}", ::getpid());
  fs::create_directories(d);
  return d;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The canonical file text with one edit applied to its JSON.
template <class F>
std::string edited(F edit) {
  auto j = nlohmann::ordered_json::parse(to_json(notes_graph()));
  edit(j);
  return j.dump(2);
}

}  // namespace

TEST_CASE("graph file: save -> load -> save gives the same bytes and the same graph", "[graph]") {
  const fs::path dir = temp_dir();
  for (DType dtype : {DType::f64, DType::f32}) {
    const Graph g = notes_graph(dtype);
    save(g, dir / "a.json");
    const Graph back = load(dir / "a.json");
    save(back, dir / "b.json");
    CHECK(read_text(dir / "a.json") == read_text(dir / "b.json"));
    REQUIRE(back.size() == g.size());
    CHECK(back.dtype() == dtype);
    for (NodeId id = 0; id < g.size(); ++id) test::check_same_node(g, back, id);
  }
  // no temporary files are left behind by the atomic writes
  std::size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 2);
  fs::remove_all(dir);
}

TEST_CASE("graph file: the format has a version, and other versions are refused", "[graph]") {
  const auto j = nlohmann::json::parse(to_json(notes_graph()));
  CHECK(j.at("format") == "dagrad-graph");
  CHECK(j.at("version") == graph_format_version);
  const std::string v9 = edited([](auto& j) { j["version"] = 9; });
  CHECK_THROWS_WITH(graph_from_json(v9, "m.json"),
                    Catch::Contains("m.json") && Catch::Contains("version 9"));
  const std::string v0 = edited([](auto& j) { j["version"] = 0; });
  CHECK_THROWS_WITH(graph_from_json(v0, "m.json"), Catch::Contains("version 0"));
  // Version 1 files (numbers only, no m) still load.
  const std::string v1 = edited([](auto& j) { j["version"] = 1; });
  CHECK(graph_from_json(v1, "m.json").size() == notes_graph().size());
}

TEST_CASE("graph file: bad files give errors naming the file and the node", "[graph]") {
  SECTION("unknown op") {
    const auto text = edited([](auto& j) { j["nodes"][6]["op"] = "frobnicate"; });
    const std::string name = nlohmann::json::parse(text)["nodes"][6].value("name", "");
    REQUIRE(!name.empty());  // the node the message must name
    CHECK_THROWS_AS(graph_from_json(text, "model.json"), GraphError);
    CHECK_THROWS_WITH(graph_from_json(text, "model.json"),
                      Catch::StartsWith("model.json: node 6 (" + name + ")") &&
                          Catch::Contains("unknown op 'frobnicate'"));
  }
  SECTION("cycle") {
    // node 4's operand becomes its own consumer, node 6
    const auto text = edited([](auto& j) {
      j["nodes"][4]["op"] = "exp";
      j["nodes"][4]["inputs"] = {6};
    });
    CHECK_THROWS_AS(graph_from_json(text, "model.json"), GraphError);
    CHECK_THROWS_WITH(graph_from_json(text, "model.json"),
                      Catch::StartsWith("model.json: node") && Catch::Contains("cycle"));
  }
  SECTION("dangling edge") {
    const auto text = edited([](auto& j) { j["nodes"][7]["inputs"][0] = 999; });
    CHECK_THROWS_AS(graph_from_json(text, "model.json"), GraphError);
    CHECK_THROWS_WITH(
        graph_from_json(text, "model.json"),
        Catch::StartsWith("model.json: node 7") && Catch::Contains("dangling edge to node 999"));
  }
  SECTION("shapes that do not fit") {
    const auto text = edited([](auto& j) { j["nodes"][2]["shape"] = {7, 7}; });  // W1
    CHECK_THROWS_AS(graph_from_json(text, "model.json"), ShapeError);
    CHECK_THROWS_WITH(graph_from_json(text, "model.json"), Catch::StartsWith("model.json:"));
  }
  SECTION("wrong field") {
    const auto text = edited([](auto& j) { j["nodes"][3]["shape"] = "big"; });
    CHECK_THROWS_WITH(graph_from_json(text, "model.json"),
                      Catch::StartsWith("model.json: node 3 (b1)") && Catch::Contains("shape"));
    // Issue 19: 2^40 x 2^40 would wrap rows * cols before any byte count.
    const auto huge = edited([](auto& j) { j["nodes"][3]["shape"] = {std::int64_t{1} << 40, std::int64_t{1} << 40}; });
    CHECK_THROWS_AS(graph_from_json(huge, "model.json"), InputError);
    CHECK_THROWS_WITH(graph_from_json(huge, "model.json"),
                      Catch::StartsWith("model.json: node 3 (b1)") && Catch::Contains("at most 2^40 values"));
    const auto attr = edited([](auto& j) { j["nodes"][4]["attrs"]["colour"] = 1; });
    CHECK_THROWS_WITH(graph_from_json(attr, "model.json"),
                      Catch::Contains("unknown attribute 'colour'"));
  }
  SECTION("an attribute of another op") {
    // Each op reads its own attribute type: a dropout mask's seed on a
    // matmul is refused; spelled out at its default (as a file that writes
    // every key would) it is ignored.
    const auto seeded = edited([](auto& j) { j["nodes"][4]["attrs"]["seed"] = 5; });
    REQUIRE(nlohmann::json::parse(seeded)["nodes"][4]["op"].get<std::string>() == "matmul");
    CHECK_THROWS_AS(graph_from_json(seeded, "model.json"), InputError);
    CHECK_THROWS_WITH(graph_from_json(seeded, "model.json"),
                      Catch::StartsWith("model.json: node 4") &&
                          Catch::Contains("attribute 'seed' does not apply to a matmul node"));
    const auto spelled = edited([](auto& j) { j["nodes"][4]["attrs"]["seed"] = 0; });
    CHECK(to_json(graph_from_json(spelled, "model.json")) == to_json(notes_graph()));
  }
}

TEST_CASE("graph file: bad JSON and a truncated file are input errors with a byte offset",
          "[graph]") {
  const std::string text = to_json(notes_graph());
  CHECK_THROWS_AS(graph_from_json(text.substr(0, text.size() / 2), "model.json"), InputError);
  CHECK_THROWS_WITH(graph_from_json(text.substr(0, text.size() / 2), "model.json"),
                    Catch::Contains("model.json") && Catch::Contains("truncated"));
  std::string bad = text;
  bad[40] = '@';
  CHECK_THROWS_AS(graph_from_json(bad, "model.json"), InputError);
  CHECK_THROWS_WITH(graph_from_json(bad, "model.json"),
                    Catch::StartsWith("model.json: not valid JSON at byte"));
  CHECK_THROWS_AS(graph_from_json("[1, 2]", "x.json"), InputError);
  CHECK_THROWS_AS(load("/nonexistent/dir/model.json"), InputError);
}

TEST_CASE("graph file: a loaded graph runs and gives the saved graph's values", "[graph]") {
  Graph g;
  auto X = g.input("X", {2, 3});
  auto W = g.param("W", {1, 2});
  auto J = sum(sigmoid(W * X)).named("J");
  auto dW = gradients(J, {W})[0];
  const Graph back = graph_from_json(to_json(g), "mem");
  const std::vector<double> x{1, 2, 3, -1, 0.5, 2}, w{0.3, -0.2};
  std::vector<double> results;
  for (const Graph* h : std::vector<const Graph*>{&g, &back}) {
    runtime::Executor exec(*h, {J.id, dW.id});
    exec.bind("X", x.data(), {2, 3});
    exec.bind("W", w.data(), {1, 2});
    exec.run();
    results.push_back(exec.scalar(J.id));
    results.push_back(exec.values<double>(dW.id)[1]);
  }
  CHECK(results[0] == results[2]);
  CHECK(results[1] == results[3]);
}
