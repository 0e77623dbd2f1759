// dagrad explain: the derived backward graph as the notes' equations.
//
//   dagrad explain --layers 2,4,1 --hidden tanh
//   dZ[2] = A[2] - Y                     (1 x m)
//   dW[2] = 1/m dZ[2] A[1]^T             (1 x n[1])
//   ...
//   dagrad explain --layers 5,4,3,1 --l2 0.7 --keep-prob 0.8 --latex
//   dagrad explain --graph model.json
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/model_spec.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/viz/explain.hpp"

namespace dagrad::cli {

namespace {

struct ExplainCliOptions {
  SpecOptions spec;
  std::string graph;
  bool latex = false;
};

int run_explain(const ExplainCliOptions& o) {
  if (!o.graph.empty() && !o.spec.layers.empty())
    throw InputError("give the model either as --layers ... or as --graph FILE, not both");
  if (o.graph.empty() && o.spec.layers.empty())
    throw InputError("give the model as --layers n0,n1,... or --graph FILE");
  const viz::Derivation d = o.graph.empty()
                                ? viz::derive_mlp(to_model_spec(o.spec), to_dtype(o.spec))
                                : viz::derivation_of(load(o.graph));
  if (d.grads.empty()) throw InputError("the graph has no gradient nodes to explain");
  const viz::Style style = o.latex ? viz::Style::latex : viz::Style::text;
  const auto lines = viz::explain_lines(d.graph, d.grads, d.notation, style);
  fmt::print("{}", viz::format_explain(lines, style));
  return 0;
}

}  // namespace

void add_explain(CLI::App& app, Commands& out) {
  auto o = std::make_shared<ExplainCliOptions>();
  CLI::App* cmd = app.add_subcommand("explain", "print the derived backward pass as the notes' equations");
  add_spec_options(cmd, o->spec, false);
  cmd->add_option("--graph", o->graph, "a graph file (JSON) instead of --layers");
  cmd->add_flag("--latex", o->latex, "emit LaTeX (an aligned environment)");
  out.push_back({cmd, [o] { return run_explain(*o); }});
}

}  // namespace dagrad::cli
