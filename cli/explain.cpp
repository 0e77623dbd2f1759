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
  ModelSource source;
  OptimizerFlags optimizer;
  bool latex = false;
};

int run_explain(const ExplainCliOptions& o) {
  const viz::Derivation d = derivation_for(o.source, optimizer_of(o.optimizer));
  if (d.grads.empty()) throw InputError("the graph has no gradient nodes to explain");
  const viz::Style style = o.latex ? viz::Style::latex : viz::Style::text;
  std::vector<NodeId> shown = d.grads;
  shown.insert(shown.end(), d.assigns.begin(), d.assigns.end());
  const auto lines = viz::explain_lines(d.graph, shown, d.notation, style);
  fmt::print("{}", viz::format_explain(lines, style));
  return 0;
}

}  // namespace

void add_explain(CLI::App& app, Commands& out) {
  auto o = std::make_shared<ExplainCliOptions>();
  CLI::App* cmd = app.add_subcommand("explain", "print the derived backward pass as the notes' equations");
  add_model_source(cmd, o->source, "a graph file (JSON) instead of --layers", "--model",
                   "a saved model (FILE.dagrad), with its optimizer's update");
  add_optimizer_flags(cmd, o->optimizer, "show this optimizer's update: ");
  cmd->add_flag("--latex", o->latex, "emit LaTeX (an aligned environment)");
  out.push_back({cmd, [o] { return run_explain(*o); }});
}

}  // namespace dagrad::cli
