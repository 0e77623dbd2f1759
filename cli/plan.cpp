// dagrad plan: the memory plan of a model's training step (forward, cost and
// backward), or of a saved graph file (--graph): the schedule, each value's bytes, arena offset and live steps,
// the in-place chains, then the peak bytes and the liveness lower bound; last,
// the library each GEMM runs on and why (ops/gemm_planner.hpp).
#include <fmt/format.h>

#include "dagrad/autodiff/gradients.hpp"
#include "cli/commands.hpp"
#include "cli/model_spec.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/runtime/planner.hpp"

namespace dagrad::cli {

namespace {

struct PlanCmdOptions {
  SpecOptions spec;
  std::string graph_file;
  std::int64_t m = 64;
  bool no_opt = false;
  bool forward_only = false;
};

// One line per matmul of the schedule: its product, the library it runs on
// at the current thread count and why, timing the shapes not planned yet.
void print_gemms(const Graph& g, std::span<const NodeId> schedule) {
  const int threads = ops::gemm_threads();
  fmt::print("GEMMs at {} thread{}, --gemm {}:\n", threads, threads == 1 ? "" : "s",
             ops::gemm_mode_name(ops::gemm_mode()));
  for (NodeId id : schedule) {
    const auto key = ops::node_gemm_key(g, id, threads);
    if (!key) continue;
    const std::string product = fmt::format("{}x{}x{} {}{} {}", key->M, key->N, key->K,
                                            key->trans_a ? 'T' : 'N', key->trans_b ? 'T' : 'N',
                                            dtype_name(key->dtype));
    fmt::print("  {:<18} {:<24} {}\n", g.describe(id), product,
               ops::describe(ops::plan_gemm(*key)));
  }
}

// A saved graph: its outputs are the nodes nothing reads (the sinks).
void plan_graph_file(const PlanCmdOptions& o) {
  const Graph g = dagrad::load(o.graph_file);
  std::vector<NodeId> outputs;
  for (NodeId id = 0; id < g.size(); ++id)
    if (g.consumers(id).empty()) outputs.push_back(id);
  const runtime::MemoryPlan plan = runtime::plan_memory(g, outputs);
  runtime::check_plan(g, plan);
  fmt::print("{}", runtime::describe_plan(g, plan));
  print_gemms(g, plan.schedule);
}

int run_plan(const PlanCmdOptions& o) {
  apply_threads(o.spec);
  if (!o.graph_file.empty()) {
    plan_graph_file(o);
    return 0;
  }
  if (o.spec.layers.empty()) throw InputError("plan needs --layers or --graph FILE");
  Graph g(to_dtype(o.spec));
  const models::Model model = models::build_mlp(g, to_model_spec(o.spec), o.m);
  std::vector<NodeId> outputs{model.J.id};
  if (!o.forward_only) {
    const std::vector<Expr> params = model.params();
    for (Expr d : gradients(model.J, params)) outputs.push_back(d.id);
  }
  passes::PassOptions popt;
  if (o.no_opt) popt = {false, false, false, false, false};
  const passes::Rewritten r = passes::optimize(g, outputs, popt);
  const runtime::MemoryPlan plan = runtime::plan_memory(r.graph, r.outputs);
  runtime::check_plan(r.graph, plan);
  fmt::print("{}", runtime::describe_plan(r.graph, plan));
  print_gemms(r.graph, plan.schedule);
  return 0;
}

}  // namespace

void add_plan(CLI::App& app, Commands& out) {
  auto opts = std::make_shared<PlanCmdOptions>();
  CLI::App* cmd = app.add_subcommand("plan", "print the schedule and memory plan of a training step");
  add_spec_options(cmd, opts->spec, false);
  cmd->add_option("--graph", opts->graph_file, "a saved graph file (its sinks are the outputs)");
  cmd->add_option("--m", opts->m, "samples per step (columns of X)");
  cmd->add_flag("--no-opt", opts->no_opt, "plan the graph without passes::optimize");
  cmd->add_flag("--forward-only", opts->forward_only, "plan the cost alone (no gradients)");
  out.push_back({cmd, [opts] { return run_plan(*opts); }});
}

}  // namespace dagrad::cli
