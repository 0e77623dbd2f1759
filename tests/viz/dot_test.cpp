// The Graphviz export: the DOT parses with Graphviz's `dot` (skipped with a
// message when it is not installed) and draws the expected nodes and edges
// per role, counted here by hand from the notes' 2-layer network and, for
// deeper nets, from the graph's own node roles.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <sys/wait.h>

#include <fmt/format.h>

#include "dagrad/models/mlp.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/viz/dot.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

struct Counts {
  std::map<std::string, int> nodes;  // by class
  int edges = 0;
};

// Vertex lines look like `n5 [label=..., class="forward", ...];` (and `u2` for
// updates, `g3` for collapsed boxes); edges `n0->n4 [...]` or `n2 -> u2`.
Counts count(const std::string& dot) {
  Counts c;
  std::istringstream in(dot);
  const std::regex vertex(R"(^\s*[nug]\d+\s*\[label=.*class="(\w+)( dead)?")");
  const std::regex edge(R"(^\s*[nug]\d+\s*->\s*[nug]\d+)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, vertex)) c.nodes[m[2].matched ? "dead" : m[1].str()]++;
    if (std::regex_search(line, edge)) ++c.edges;
  }
  return c;
}

models::ModelSpec spec_of(std::vector<std::int64_t> layers, models::Activation hidden) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.hidden = hidden;
  return s;
}

std::string to_dot(const viz::Derivation& d, viz::DotOptions o = {}) {
  o.notation = d.notation;
  return viz::to_dot(d.graph, d.outputs(), d.updates, o);
}

bool have_dot() { return std::system("command -v dot > /dev/null 2>&1") == 0; }

// Runs `dot -Tcanon` on the text; returns its stderr ("" when clean) or throws.
std::string dot_errors(const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "dagrad_dot_test";
  fs::create_directories(dir);
  std::ofstream(dir / "g.dot") << text;
  const int rc = std::system(fmt::format("dot -Tcanon '{}' > '{}' 2> '{}'", (dir / "g.dot").string(),
                                         (dir / "g.canon").string(), (dir / "err.txt").string())
                                 .c_str());
  std::ifstream err(dir / "err.txt");
  std::string message((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  return rc == 0 ? message : "exit " + std::to_string(rc) + ": " + message;
}

int run_cli(const std::string& args, const std::string& env = "") {
  const std::string cmd = fmt::format("{} {} {} > /dev/null 2> '{}'", env, DAGRAD_CLI_PATH, args,
                                      (fs::temp_directory_path() / "dagrad_dot_cli.err").string());
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string cli_stderr() {
  std::ifstream in(fs::temp_directory_path() / "dagrad_dot_cli.err");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("dot draws the 2-layer net's nodes and edges by role", "[viz]") {
  const viz::Derivation d = viz::derive_mlp(spec_of({2, 4, 1}, models::Activation::tanh));
  Counts c = count(to_dot(d));
  // By hand, forward: W1 X, Z1 = + b1, A1 = tanh, W2 A1, Z2 = + b2, A2 = sigmoid
  // (A2 feeds dZ2 = A2 - Y). Backward: dZ2; db2 = sum; dW2 = 1/m (dZ2 A1^T), two
  // nodes; dA1 = W2^T dZ2; 1 - A1^2, two nodes (square, affine); dZ1 = mul;
  // db1; dW1, two nodes. That is 11.
  CHECK(c.nodes["input"] == 2);
  CHECK(c.nodes["param"] == 4);
  CHECK(c.nodes["forward"] == 6);
  CHECK(c.nodes["loss"] == 1);
  CHECK(c.nodes["backward"] == 11);
  CHECK(c.nodes["update"] == 4);
  CHECK(c.nodes["dead"] == 0);
  // Operand slots: forward 2+2+1+2+2+1, loss 2, backward 2+1+2+1+2+1+1+2+1+2+1,
  // then two edges into each of the 4 updates.
  CHECK(c.edges == 10 + 2 + 16 + 8);
}

TEST_CASE("dot labels nodes with the notes' names and edges with symbolic shapes", "[viz]") {
  const std::string dot = to_dot(viz::derive_mlp(spec_of({2, 4, 1}, models::Activation::tanh)));
  for (const char* s : {"label=\"Z[1]\\nadd\"", "label=\"dZ[1]\\nmul\"", "label=\"dW[2]\\n1/m x\"",
                        "label=\"(n[1] x m)\"", "label=\"(n[1] x n[0])\"", "subgraph cluster_backward",
                        "W[1] := W[1] - alpha dW[1]", "subgraph cluster_update"})
    CHECK_THAT(dot, Contains(s));
}

TEST_CASE("dot options: forward only, one layer, collapsed, dead nodes", "[viz]") {
  models::ModelSpec s = spec_of({5, 4, 3, 1}, models::Activation::relu);
  s.l2 = 0.5;
  s.keep_prob = {0.8};
  const viz::Derivation d = viz::derive_mlp(s);
  // Independent counts from the graph: the schedule and the nodes' roles.
  const std::vector<NodeId> outputs = d.outputs();
  const auto sched = d.graph.schedule(outputs);
  int backward = 0, edges = 0;
  for (NodeId id : sched) {
    backward += d.graph.node(id).role == Role::backward;
    edges += static_cast<int>(d.graph.node(id).inputs.size());
  }
  Counts all = count(to_dot(d));
  CHECK(all.nodes["backward"] == backward);
  CHECK(all.nodes["input"] == 4);  // X, Y, D1, D2
  CHECK(all.nodes["param"] == 6);
  CHECK(all.nodes["loss"] == 3);  // cost, L2, J
  CHECK(all.edges == edges + 2 * 6);

  viz::DotOptions fwd;
  fwd.forward_only = true;
  Counts f = count(to_dot(d, fwd));
  CHECK(f.nodes["backward"] == 0);
  CHECK(f.nodes["update"] == 0);
  CHECK(f.nodes["param"] == 6);

  viz::DotOptions dead;
  dead.show_dead = true;
  CHECK(count(to_dot(d, dead)).nodes["dead"] == static_cast<int>(d.graph.size() - sched.size()));

  viz::DotOptions layer;
  layer.layer = 2;
  const std::string slice = to_dot(d, layer);
  CHECK_THAT(slice, Contains("label=\"dZ[2]"));
  CHECK_THAT(slice, !Contains("label=\"dZ[1]"));

  viz::DotOptions collapse;
  collapse.collapse = true;
  Counts boxes = count(to_dot(d, collapse));
  // X, Y; per layer: parameters, forward, backward, update; one loss box.
  CHECK(boxes.nodes["input"] == 2);
  CHECK(boxes.nodes["param"] == 3);
  CHECK(boxes.nodes["forward"] == 3);
  CHECK(boxes.nodes["backward"] == 3);
  CHECK(boxes.nodes["update"] == 3);
  CHECK(boxes.nodes["loss"] == 1);
}

TEST_CASE("dot output parses with Graphviz", "[viz]") {
  if (!have_dot()) {
    dagrad::support::missing_dependency("Graphviz `dot` (graphviz)", "the parse check");
    return;
  }
  models::ModelSpec s = spec_of({5, 4, 3, 1}, models::Activation::relu);
  s.l2 = 0.5;
  s.keep_prob = {0.8};
  const viz::Derivation d = viz::derive_mlp(s);
  viz::DotOptions o;
  CHECK(dot_errors(to_dot(d, o)) == "");
  o.collapse = true;
  CHECK(dot_errors(to_dot(d, o)) == "");
  o.collapse = false;
  o.show_dead = true;
  o.layer = 1;
  CHECK(dot_errors(to_dot(d, o)) == "");
}

TEST_CASE("dagrad dot renders through Graphviz, or says how to install it", "[viz]") {
  const fs::path dir = fs::temp_directory_path() / "dagrad_dot_cli_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string model = "--layers 2,4,1 --hidden tanh";
  CHECK(run_cli(fmt::format("dot {} -o '{}'", model, (dir / "g.dot").string())) == 0);
  CHECK(fs::file_size(dir / "g.dot") > 0);
  // --layer 0 means every layer (viz::DotOptions::layer), as with no --layer.
  CHECK(run_cli(fmt::format("dot {} --layer 0 -o '{}'", model, (dir / "g0.dot").string())) == 0);
  std::ifstream all(dir / "g.dot"), zero(dir / "g0.dot");
  CHECK(std::string(std::istreambuf_iterator<char>(all), {}) == std::string(std::istreambuf_iterator<char>(zero), {}));
  fs::remove(dir / "g0.dot");
  if (have_dot()) {
    CHECK(run_cli(fmt::format("dot {} -o '{}'", model, (dir / "g.svg").string())) == 0);
    std::ifstream svg(dir / "g.svg");
    std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
    CHECK_THAT(text, Contains("</svg>"));
  } else {
    dagrad::support::missing_dependency("Graphviz `dot` (graphviz)", "the .svg rendering check");
  }
  // With no `dot` on PATH: exit 2, the install hint, and no file left behind.
  const fs::path empty = dir / "empty_path";
  fs::create_directories(empty);
  CHECK(run_cli(fmt::format("dot {} -o '{}'", model, (dir / "h.png").string()),
                fmt::format("PATH='{}'", empty.string())) == 2);
  CHECK_THAT(cli_stderr(), Contains("apt-get install graphviz"));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == (have_dot() ? 2 : 1));
  fs::remove_all(dir);
}
