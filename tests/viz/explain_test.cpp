// `explain` against the notes' backward equations. The expected lines are
// written here from the notes (C1W3 shallow network, C1W4 L-layer network,
// C2W1 L2 and inverted dropout), not copied from the program's output.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/viz/explain.hpp"

using namespace dagrad;
using Catch::Matchers::Contains;

namespace {

models::ModelSpec spec_of(std::vector<std::int64_t> layers, models::Activation hidden) {
  models::ModelSpec s;
  s.layers = std::move(layers);
  s.hidden = hidden;
  return s;
}

// "lhs = rhs" and "(shape)" of each line, split at the column gap.
std::vector<std::pair<std::string, std::string>> equations(const std::vector<viz::ExplainLine>& lines) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& l : lines) out.emplace_back(l.lhs + " = " + l.rhs, l.shape);
  return out;
}

std::vector<std::pair<std::string, std::string>> explain(const models::ModelSpec& spec) {
  const viz::Derivation d = viz::derive_mlp(spec);
  return equations(viz::explain_lines(d.graph, d.grads, d.notation));
}

using Eqs = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("explain prints the notes' shallow-network backward pass", "[viz]") {
  const viz::Derivation d = viz::derive_mlp(spec_of({2, 4, 1}, models::Activation::tanh));
  const std::string text = viz::format_explain(viz::explain_lines(d.graph, d.grads, d.notation));
  // C1W3: dZ2 = A2 - Y; dW2 = 1/m dZ2 A1^T; db2 = 1/m np.sum(dZ2, axis=1);
  // dZ1 = W2^T dZ2 * (1 - A1^2); dW1 = 1/m dZ1 X^T; db1 = 1/m np.sum(dZ1, axis=1).
  const std::string expected =
      "dZ[2] = A[2] - Y                     (1 x m)\n"
      "dW[2] = 1/m dZ[2] A[1]^T             (1 x n[1])\n"
      "db[2] = 1/m sum(dZ[2], axis=1)       (1 x 1)\n"
      "dZ[1] = W[2]^T dZ[2] * (1 - A[1]^2)  (n[1] x m)\n"
      "dW[1] = 1/m dZ[1] X^T                (n[1] x n[0])\n"
      "db[1] = 1/m sum(dZ[1], axis=1)       (n[1] x 1)\n";
  CHECK(text == expected);
}

TEST_CASE("explain follows the L-layer relu network layer by layer", "[viz]") {
  // C1W4: dZ[L] = A[L] - Y, then for l < L: dZ[l] = W[l+1]^T dZ[l+1] * g'(Z[l])
  // with relu's g'(z) = (z > 0).
  const Eqs expected = {
      {"dZ[3] = A[3] - Y", "(1 x m)"},
      {"dW[3] = 1/m dZ[3] A[2]^T", "(1 x n[2])"},
      {"db[3] = 1/m sum(dZ[3], axis=1)", "(1 x 1)"},
      {"dZ[2] = W[3]^T dZ[3] * (Z[2] > 0)", "(n[2] x m)"},
      {"dW[2] = 1/m dZ[2] A[1]^T", "(n[2] x n[1])"},
      {"db[2] = 1/m sum(dZ[2], axis=1)", "(n[2] x 1)"},
      {"dZ[1] = W[2]^T dZ[2] * (Z[1] > 0)", "(n[1] x m)"},
      {"dW[1] = 1/m dZ[1] X^T", "(n[1] x n[0])"},
      {"db[1] = 1/m sum(dZ[1], axis=1)", "(n[1] x 1)"},
  };
  CHECK(explain(spec_of({4, 5, 3, 1}, models::Activation::relu)) == expected);
}

TEST_CASE("explain shows the L2 terms and the dropout mask", "[viz]") {
  models::ModelSpec s = spec_of({3, 4, 1}, models::Activation::tanh);
  s.l2 = 0.7;
  s.keep_prob = {0.8};
  // C2W1: dW[l] gains lambda/m W[l]; dropout backward repeats the mask:
  // dA1 = W2^T dZ2; dA1 = dA1 * D1 / keep_prob; dZ1 = dA1 * (1 - A1^2).
  const Eqs expected = {
      {"dZ[2] = A[2] - Y", "(1 x m)"},
      {"dW[2] = 1/m dZ[2] A[1]^T + lambda/m W[2]", "(1 x n[1])"},
      {"db[2] = 1/m sum(dZ[2], axis=1)", "(1 x 1)"},
      {"dA[1] = W[2]^T dZ[2]", "(n[1] x m)"},
      {"dA[1] = dA[1] * D[1] / keep_prob", "(n[1] x m)"},
      {"dZ[1] = dA[1] * (1 - A[1]^2)", "(n[1] x m)"},
      {"dW[1] = 1/m dZ[1] X^T + lambda/m W[1]", "(n[1] x n[0])"},
      {"db[1] = 1/m sum(dZ[1], axis=1)", "(n[1] x 1)"},
  };
  CHECK(explain(s) == expected);
}

TEST_CASE("explain writes each hidden activation's derivative as the notes do", "[viz]") {
  // g'(z) for sigmoid: a (1 - a); for leaky relu: 1 where z > 0, else the slope.
  auto dz1 = [](models::Activation a) {
    for (const auto& [eq, shape] : explain(spec_of({2, 3, 1}, a)))
      if (eq.rfind("dZ[1] = ", 0) == 0) return eq;
    return std::string();
  };
  CHECK(dz1(models::Activation::sigmoid) == "dZ[1] = W[2]^T dZ[2] * A[1] * (1 - A[1])");
  CHECK(dz1(models::Activation::leaky_relu) == "dZ[1] = W[2]^T dZ[2] * where(Z[1] > 0, 1, 0.01)");
  CHECK(dz1(models::Activation::relu) == "dZ[1] = W[2]^T dZ[2] * (Z[1] > 0)");
}

TEST_CASE("explain: softmax with cross-entropy also gives dZ[L] = A[L] - Y", "[viz]") {
  models::ModelSpec s = spec_of({2, 4, 3}, models::Activation::relu);
  s.output = models::Output::softmax;
  const Eqs eqs = explain(s);
  REQUIRE(eqs.size() == 6);
  CHECK(eqs[0] == std::pair<std::string, std::string>{"dZ[2] = A[2] - Y", "(n[2] x m)"});
  CHECK(eqs[2] == std::pair<std::string, std::string>{"db[2] = 1/m sum(dZ[2], axis=1)", "(n[2] x 1)"});
}

TEST_CASE("explain --latex is an aligned environment", "[viz]") {
  const viz::Derivation d = viz::derive_mlp(spec_of({2, 4, 1}, models::Activation::tanh));
  const auto lines = viz::explain_lines(d.graph, d.grads, d.notation, viz::Style::latex);
  const std::string tex = viz::format_explain(lines, viz::Style::latex);
  CHECK(tex.rfind("\\begin{aligned}\n", 0) == 0);
  CHECK_THAT(tex, Contains("dZ^{[2]} &= A^{[2]} - Y && (1 \\times m) \\\\"));
  CHECK_THAT(tex, Contains("dW^{[1]} &= \\frac{1}{m} dZ^{[1]}\\,{X}^{T} && (n^{[1]} \\times n^{[0]})"));
  CHECK(tex.substr(tex.size() - 14) == "\\end{aligned}\n");
}

TEST_CASE("explain reads a graph file, and names unnamed nodes t1, t2", "[viz]") {
  const auto dir = std::filesystem::temp_directory_path() / "dagrad_explain_test";
  std::filesystem::create_directories(dir);
  const viz::Derivation d = viz::derive_mlp(spec_of({2, 4, 1}, models::Activation::tanh));
  save(d.graph, dir / "model.json");
  const viz::Derivation loaded = viz::derivation_of(load(dir / "model.json"));
  CHECK(equations(viz::explain_lines(loaded.graph, loaded.grads, loaded.notation)) ==
        equations(viz::explain_lines(d.graph, d.grads, d.notation)));

  // Without the notes' names: the shared dZ[2] (used by dW2, db2 and dA1) and
  // dZ[1] become t-names; the outputs keep the order of the graph.
  Graph g;
  const models::Mlp m = models::build_mlp(g, spec_of({2, 4, 1}, models::Activation::tanh), 50);
  autodiff::GradientOptions unnamed;
  unnamed.name_gradients = false;
  const std::vector<Expr> grads = autodiff::gradients(m.J, m.params(), unnamed);
  std::vector<NodeId> outs;
  for (Expr e : grads) outs.push_back(e.id);
  const Eqs eqs = equations(viz::explain_lines(g, outs, viz::Notation::from_graph(g)));
  std::vector<std::string> text;
  for (const auto& e : eqs) text.push_back(e.first);
  CHECK(std::find(text.begin(), text.end(), "t1 = A[2] - Y") != text.end());
  CHECK(std::count_if(text.begin(), text.end(), [](const std::string& s) {
          return std::regex_match(s, std::regex(R"(t\d+ = 1/m t1 A\[1\]\^T)"));
        }) == 1);
  CHECK(std::count_if(text.begin(), text.end(), [](const std::string& s) {
          return std::regex_match(s, std::regex(R"(t\d+ = W\[2\]\^T t1 \* \(1 - A\[1\]\^2\))"));
        }) == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("notation maps sizes to n[l] and m only when unambiguous", "[viz]") {
  viz::Notation nt;
  nt.layers = {3, 4, 4, 1};
  nt.m = 1000;
  CHECK(nt.dim(nt.dim_of_value(3)) == "n[0]");
  CHECK(nt.dim(nt.dim_of_value(4)) == "4");  // n[1] = n[2]: ambiguous by value
  CHECK(nt.dim(nt.dim_of_value(1000)) == "m");
  CHECK(nt.dim(nt.dim_of_value(1)) == "1");
  // By name and shape rule the ambiguity resolves: dW[2] is (n[2] x n[1]).
  models::ModelSpec s = spec_of({3, 4, 4, 1}, models::Activation::relu);
  const Eqs eqs = explain(s);
  CHECK(std::find(eqs.begin(), eqs.end(),
                  std::pair<std::string, std::string>{"dW[2] = 1/m dZ[2] A[1]^T", "(n[2] x n[1])"}) !=
        eqs.end());
  CHECK(*nt.scale(1.0 / 1000, viz::Style::text) == "1/m");
  CHECK(viz::parse_notes_name("dA1_drop")->dropped);
  CHECK(!viz::parse_notes_name("L2"));
}
