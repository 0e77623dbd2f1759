// dagrad dot: the forward and derived backward graph as a Graphviz picture.
//
//   dagrad dot --layers 2,4,1 --hidden tanh -o g.svg
//   dagrad dot --graph model.json --forward-only -o forward.dot
//   dagrad dot --layers 12288,20,7,5,1 --collapse -o deep.png
//   dagrad dot --layers 2,4,1 --optimizer adam --data-parallel -o dp.svg
// --data-parallel draws the step of one process of a data-parallel run
// (mpirun): the allreduce nodes that sum J and the gradient buckets.
//
// Without -o the DOT text goes to stdout. .svg/.png/.pdf are rendered by
// Graphviz's `dot`; without it the command says how to install it (exit 2).
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/distributed.hpp"
#include "cli/model_spec.hpp"
#include "cli/outputs.hpp"
#include "dagrad/dist/data_parallel.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/viz/dot.hpp"

namespace dagrad::cli {

namespace {

struct DotCliOptions {
  ModelSource source;
  OptimizerFlags optimizer;
  std::string output;
  viz::DotOptions dot;
  bool no_legend = false;
  bool fused = false;
  bool data_parallel = false;
  double bucket_mb = 25;
};

// The training step after passes::optimize: a narrow network's step is one
// fused_net node, labelled with the network and the nodes it replaced.
std::string fused_dot(const viz::Derivation& d, const viz::DotOptions& dot) {
  if (d.assigns.empty())
    throw InputError("--fused draws the optimized training step: give --optimizer (or a --model "
                     "with one)");
  std::vector<NodeId> outputs{d.J};
  outputs.insert(outputs.end(), d.assigns.begin(), d.assigns.end());
  const passes::Rewritten r = passes::optimize(d.graph, outputs);
  return viz::to_dot(r.graph, r.outputs, {}, dot);
}

// The derivation as one process of a data-parallel run computes it: J and
// the gradients summed over the processes (dist::data_parallel), every
// reader of one reading the sum.
void distribute(viz::Derivation& d, double bucket_mb) {
  std::vector<NodeId> sums{d.J};
  sums.insert(sums.end(), d.grads.begin(), d.grads.end());
  dist::DataParallelGraph dp = dist::data_parallel(d.graph, d.outputs(), sums, {bucket_mb});
  const std::vector<NodeId>& map = dp.rewritten.map;
  d.J = map[d.J];
  if (d.prediction && map[*d.prediction] != passes::no_node) d.prediction = map[*d.prediction];
  else d.prediction.reset();
  for (NodeId& g : d.grads) g = map[g];
  for (NodeId& a : d.assigns) a = map[a];
  for (viz::ParamGradient& u : d.updates) u = {map[u.param], map[u.grad]};
  d.graph = std::move(dp.rewritten.graph);
}

// A model file's input normalization is applied to the data before the
// graph sees it, so the graph does not hold it: drawn as a note feeding the
// features node, when that node is drawn.
std::string with_normalization(std::string text, const ModelSource& source, const viz::Derivation& d) {
  if (source.model.empty()) return text;
  const models::Model m = models::load_model(source.model);
  if (!m.normalization) return text;
  const auto x = d.graph.find(m.features().name());
  const std::size_t end = text.rfind('}');
  if (!x || end == std::string::npos || text.find(fmt::format("  n{};\n", *x)) == std::string::npos) return text;
  const std::string name = m.features().name();
  text.insert(end, fmt::format(
      "norm [class=\"normalization\", shape=note, style=filled, fillcolor=\"#fffcf2\", color=\"#d6b656\", "
      "label=\"{0} = ({0}_raw - mu) / sigma\\nmu, sigma: {1} x 1, from the training data\"];\n"
      "norm -> n{2} [style=dashed, color=\"#d6b656\"];\n",
      name, m.normalization->mu.size(), *x));
  return text;
}

int run_dot(DotCliOptions& o) {
  OutputSet()
      .input("--graph", o.source.graph)
      .input("--model", o.source.model)
      .output("-o", o.output, OutputKind::graph)
      .check();
  viz::Derivation d = derivation_for(o.source, optimizer_of(o.optimizer));
  if (o.data_parallel && !o.dot.forward_only) distribute(d, o.bucket_mb);
  o.dot.notation = d.notation;
  o.dot.legend = !o.no_legend;
  if (o.fused) {
    const std::string text = fused_dot(d, o.dot);
    if (o.output.empty() || o.output == "-") fmt::print("{}", text);
    else viz::write_dot_file(o.output, text);
    return 0;
  }
  std::vector<NodeId> outputs = d.outputs();
  // Forward only: the cost and the prediction A[L], which the fused
  // cross-entropy does not need but a reader expects to see.
  if (o.dot.forward_only) {
    outputs = {d.J};
    if (d.prediction) outputs.push_back(*d.prediction);
  }
  const std::string text = with_normalization(viz::to_dot(d.graph, outputs, d.updates, o.dot), o.source, d);
  if (o.output.empty() || o.output == "-") {
    fmt::print("{}", text);
    return 0;
  }
  viz::write_dot_file(o.output, text);
  return 0;
}

}  // namespace

void add_dot(CLI::App& app, Commands& out) {
  auto o = std::make_shared<DotCliOptions>();
  CLI::App* cmd = app.add_subcommand("dot", "draw the forward and derived backward graph (Graphviz)");
  add_model_source(cmd, o->source, "a graph file (JSON) instead of --layers", "--model",
                   "a saved model (FILE.dagrad), with its optimizer's update");
  add_optimizer_flags(cmd, o->optimizer, "show this optimizer's update: ");
  cmd->add_option("-o,--out", o->output,
                  "output .dot/.gv, or .svg/.png/.pdf via Graphviz (default: stdout)");
  cmd->add_flag("--forward-only", o->dot.forward_only, "draw the forward pass and the loss only");
  cmd->add_option("--layer", o->dot.layer, "draw one layer's slice (its operands dashed); 0: every layer");
  cmd->add_flag("--collapse", o->dot.collapse, "one box per layer and role (for deep nets)");
  cmd->add_flag("--show-dead", o->dot.show_dead,
                "also draw nodes that are never scheduled (dimmed); default: omitted");
  cmd->add_option("--rankdir", o->dot.rankdir, "layout direction")
      ->check(CLI::IsMember({"TB", "LR", "BT", "RL"}));
  cmd->add_flag("--no-legend", o->no_legend, "leave out the legend of roles");
  cmd->add_flag("--fused", o->fused,
                "draw the optimized training step (needs an optimizer): a narrow net's step is "
                "one fused_net node, labelled with what it replaced")
      ->excludes("--forward-only")
      ->excludes("--layer");
  cmd->add_flag("--data-parallel", o->data_parallel,
                "draw one process's step of a data-parallel run: the allreduce nodes of its gradient buckets")
      ->excludes("--fused");
  add_bucket_option(cmd, o->bucket_mb);
  out.push_back({cmd, [o] { return run_dot(*o); }});
}

}  // namespace dagrad::cli
