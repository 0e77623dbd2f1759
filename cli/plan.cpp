// dagrad plan: the memory plan of a model's training step (forward, cost,
// backward and update, after passes::optimize), or of a saved graph file
// (--graph): the schedule, each value's bytes, arena offset and live steps,
// the in-place chains, then the peak bytes and the liveness lower bound; last,
// a fused narrow-net step's network and the nodes it replaced
// (passes/fuse_net.hpp); last, the library each GEMM runs on and why
// (ops/gemm_planner.hpp).
//   dagrad plan --layers 2,4,1 --hidden tanh --m 400
//   dagrad plan --model cats.dagrad --m 64
// --data-parallel (or a run under mpirun) plans the step of one process of
// a data-parallel run: the gradient buckets' allreduce nodes, and where each
// bucket starts and is waited for (dist/data_parallel.hpp).
//   dagrad plan --layers 784,1024,1024,1 --m 256 --data-parallel --bucket-mb 4
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/distributed.hpp"
#include "cli/model_spec.hpp"
#include "dagrad/dist/comm.hpp"
#include "dagrad/dist/data_parallel.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/ops/fused_net.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/runtime/planner.hpp"

namespace dagrad::cli {

namespace {

struct PlanCmdOptions {
  ModelSource source;
  OptimizerFlags optimizer;
  std::int64_t m = 64;
  bool no_opt = false;
  bool forward_only = false;
  bool data_parallel = false;
  double bucket_mb = 25;
};

// One line per matmul of the schedule: its product at m samples, the
// library it runs on and why, and its panels (the same on any thread count).
void print_gemms(const Graph& g, std::span<const NodeId> schedule, std::int64_t m) {
  const int threads = ops::gemm_threads();
  fmt::print("GEMMs, --gemm {} (the panels are shared by {} thread{}; the bits do not depend on it):\n",
             ops::gemm_mode_name(ops::gemm_mode()), threads, threads == 1 ? "" : "s");
  if (ops::gemm_mode() == ops::GemmMode::auto_select && ops::onednn_built())
    fmt::print("  rule: {}\n", ops::gemm_rule());
  for (NodeId id : schedule) {
    const auto key = ops::node_gemm_key(g, id, m);
    if (!key) continue;
    const std::string product = fmt::format("{}x{}x{} {}{} {}", key->M, key->N, key->K,
                                            key->trans_a ? 'T' : 'N', key->trans_b ? 'T' : 'N',
                                            dtype_name(key->dtype));
    fmt::print("  {:<18} {:<24} {}\n", g.describe(id), product, ops::describe(ops::plan_gemm(*key)));
  }
}

// Each input the graph takes stored by sample (passes/sample_layout.hpp).
void print_layouts(const Graph& g, std::span<const NodeId> schedule) {
  for (NodeId id : schedule)
    if (const Node& n = g.node(id); n.op == OpKind::input && n.shape.rows == m_dim && n.shape.cols != m_dim)
      fmt::print("{} is stored by sample, {}: its products read whole samples (passes/sample_layout.hpp)\n",
                 g.describe(id), to_string(n.shape));
}

// Each fused_net node of the schedule: the network it runs and the nodes
// of the unfused step it stands for (--no-opt plans those).
void print_fused(const Graph& g, std::span<const NodeId> schedule) {
  for (NodeId id : schedule) {
    const Node& n = g.node(id);
    if (n.op != OpKind::fused_net || !n.attr<FusedNetAttrs>().net) continue;
    const ops::FusedNet& net = *n.attr<FusedNetAttrs>().net;
    // A data-parallel step's two stages stand for the same nodes: listed once, at the update.
    const FusedStage stage = n.attr<FusedNetAttrs>().stage;
    if (stage == FusedStage::gradients) {
      fmt::print("{} is fused_net: {}, its gradients and cost (summed over the processes next)\n",
                 g.describe(id), net.summary());
      continue;
    }
    fmt::print("{} is fused_net{}: {}\n  {} in place of {}:\n", g.describe(id),
               stage == FusedStage::update ? ", its update from the summed gradients" : "", net.summary(),
               stage == FusedStage::update ? "two kernels" : "one kernel", net.replaced_summary());
    for (const std::string& line : net.replaced_lines()) fmt::print("    {}\n", line);
  }
}

void print_plan(const Graph& g, std::span<const NodeId> outputs, std::int64_t m, bool buckets = false) {
  const runtime::MemoryPlan plan = runtime::plan_memory(g, outputs, {}, m);
  runtime::check_plan(g, plan);
  fmt::print("{}", runtime::describe_plan(g, plan));
  print_layouts(g, plan.schedule);
  print_fused(g, plan.schedule);
  print_gemms(g, plan.schedule, m);
  if (buckets) fmt::print("gradient buckets summed over the processes:\n{}", dist::describe_buckets(g, plan.schedule, m));
}

int run_plan(const PlanCmdOptions& o) {
  if (o.m < 1) throw InputError(fmt::format("--m {} must be at least 1", o.m));
  apply_threads(o.source.spec);
  // A graph file as it is: its outputs are the nodes nothing reads (the sinks).
  if (!o.source.graph.empty() && o.source.model.empty() && o.optimizer.kind.empty()) {
    const Graph g = dagrad::load(o.source.graph);
    std::vector<NodeId> outputs;
    for (NodeId id = 0; id < g.size(); ++id)
      if (g.consumers(id).empty()) outputs.push_back(id);
    print_plan(g, outputs, o.m);
    return 0;
  }
  models::Model model = make_model(o.source);
  std::vector<NodeId> outputs{model.cost().id};
  if (!o.forward_only) {
    if (!model.minimized()) model.minimize(optimizer_of(o.optimizer).value_or(train::OptimizerConfig{}));
    for (Expr a : model.updates().assigns) outputs.push_back(a.id);
  }
  passes::PassOptions passes = o.no_opt ? passes::PassOptions::none() : passes::PassOptions{};
  passes.capacity = o.m;  // the inputs' layout as a session of capacity m stores them
  if (!(o.data_parallel || dist::Comm::world().distributed()) || o.forward_only) {
    const passes::Rewritten r = passes::optimize(model.graph(), outputs, passes);
    print_plan(r.graph, r.outputs, o.m);
    return 0;
  }
  // As train::Session plans a data-parallel step: J and the gradients the
  // updates read are summed over the processes.
  std::vector<NodeId> sums{model.cost().id};
  for (Expr d : model.updates().grads) sums.push_back(d.id);
  const passes::Rewritten r = dist::data_parallel_step(model.graph(), outputs, sums, {o.bucket_mb}, passes);
  if (is_root()) print_plan(r.graph, r.outputs, o.m, true);
  return 0;
}

}  // namespace

void add_plan(CLI::App& app, Commands& out) {
  auto opts = std::make_shared<PlanCmdOptions>();
  CLI::App* cmd = app.add_subcommand("plan", "print the schedule and memory plan of a training step");
  add_model_source(cmd, opts->source, "a saved graph file (its sinks are the outputs)", "--model",
                   "a saved model (FILE.dagrad)");
  add_optimizer_flags(cmd, opts->optimizer, "the optimizer of the planned step (gd by default): ");
  cmd->add_option("--m", opts->m, "samples per step: the capacity the arena is planned for");
  cmd->add_flag("--no-opt", opts->no_opt, "plan the graph without passes::optimize");
  cmd->add_flag("--forward-only", opts->forward_only, "plan the cost alone (no gradients)");
  cmd->add_flag("--data-parallel", opts->data_parallel,
                "plan one process's step of a data-parallel run (as under mpirun): its gradient buckets");
  add_bucket_option(cmd, opts->bucket_mb);
  out.push_back({cmd, [opts] { return run_plan(*opts); }});
}

}  // namespace dagrad::cli
