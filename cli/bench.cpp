// dagrad bench: times exactly what `dagrad train` runs per update: the
// model spec with its optimizer attached (train::minimize; gd unless
// --optimizer), one train::Session plan of forward, cost, backward and the
// fused updates (a narrow net's step as one fused_net node), fed as fit feeds
// it: the whole synthetic set bound once (--m), or mini-batches gathered from
// a shuffled set of --samples (--batch-size; the timed unit is one step,
// gather included). Each step alternates with a GEMM-only run of the same
// products on separate buffers, so both see the same machine state. Prints
// median / p90 ms per step, steps per second, GFLOP/s, the time outside the
// GEMMs, the arena's peak bytes and the ratio to the GEMMs. The GEMM-only run
// calls each GEMM's planned library (ops/gemm_planner.hpp), so the ratio
// compares against the library the step itself uses. --profile times every
// kernel and says where the step's time beyond its GEMMs goes.
// Under mpirun (dist/comm.hpp) it times a data-parallel training step
// instead: the global batch --m split over the processes, each running
// forward, backward, the sums of its gradient buckets (--bucket-mb) and the
// update, as `mpirun dagrad train` does; the step's time is the slowest
// process's.
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/bench.hpp"
#include "cli/bench_data.hpp"
#include "cli/bench_gemm.hpp"
#include "cli/bench_mpi.hpp"
#include "cli/commands.hpp"
#include "cli/distributed.hpp"
#include "cli/model_spec.hpp"
#include "dagrad/dist/comm.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/models/init.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/vecmath.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/train/session.hpp"

namespace dagrad::cli {

namespace {

// The model with its optimizer attached and the training session fit runs
// (forward, cost, backward and the fused updates in one plan), with the
// time each stage of compilation took.
struct Compiled {
  models::Model model;
  std::unique_ptr<train::Session> session;
  std::int64_t capacity = 0;  // samples per step
  double build_s = 0, minimize_s = 0, session_s = 0;
  explicit Compiled(models::Model m) : model(std::move(m)) {}
  const Graph& graph() const { return session->graph(); }
  runtime::Executor& exec() const { return session->exec(); }
};

}  // namespace

train::OptimizerConfig optimizer_config(const BenchOptions& o) {
  train::OptimizerConfig c{train::OptimizerKind::gd, o.optimizer.lr, o.optimizer.beta1,
                           o.optimizer.beta2, o.optimizer.epsilon, o.optimizer.decay_rate};
  if (auto given = optimizer_of(o.optimizer)) c = *given;
  c.validate();
  return c;
}

namespace {

std::unique_ptr<Compiled> compile(const BenchOptions& o) {
  auto t0 = Clock::now();
  auto c = std::make_unique<Compiled>(models::build_mlp(to_model_spec(o.spec), to_dtype(o.spec)));
  c->build_s = seconds_since(t0);
  t0 = Clock::now();
  c->model.minimize(optimizer_config(o));
  c->minimize_s = seconds_since(t0);
  c->model.seed = o.spec.seed;
  c->model.init_params(o.spec.seed);
  c->capacity = o.batch_size > 0 ? std::min(o.batch_size, o.samples) : o.m;
  t0 = Clock::now();
  c->session = std::make_unique<train::Session>(c->model, train::Use::train, c->capacity,
                                                 o.no_opt ? passes::PassOptions::none() : passes::PassOptions{});
  c->session_s = seconds_since(t0);
  return c;
}


// The data behind the steps, fed as train::fit feeds them: the whole set
// bound once (full batch), or each step's mini-batch of a shuffled set
// (train::BatchSchedule) gathered by fit's Feeder.
class StepFeed {
 public:
  StepFeed(Compiled& c, const BenchOptions& o)
      : c_(c), data_(make_data(o, o.batch_size > 0 ? o.samples : o.m)),
        feeder_(*c.session, train::sample_data(c.model, data_, true), c.capacity),
        batches_(data_.samples(), o.batch_size, o.spec.seed) {
    if (batches_.full_batch()) feeder_.feed_range(0, data_.samples());
  }
  // Step i's batch into the session; its options.
  runtime::RunOptions next(std::int64_t i) {
    const std::span<const std::int64_t> idx = batches_.batch(i);
    if (!batches_.full_batch()) {
      feeder_.feed(idx);
      c_.session->set_epoch(i / batches_.per_epoch());
    }
    return {.training = true, .step = static_cast<std::uint64_t>(i), .check_numerics = false,
            .samples = idx};
  }

 private:
  Compiled& c_;
  io::Dataset data_;
  train::Feeder feeder_;
  train::BatchSchedule batches_;
};

struct Timings {
  std::vector<double> step, gemm;
  std::vector<double> per_node;  // --profile: seconds per schedule step, summed over steps
  double feed_s = 0;             // --profile: gathering the mini-batches, summed over steps
};

template <class T>
Timings time_steps(Compiled& c, StepFeed& feed, const BenchOptions& o) {
  std::vector<GemmCall> calls = gemm_calls(c.graph(), c.exec().schedule(), c.capacity);
  Timings t;
  t.per_node.assign(c.exec().schedule().size(), 0.0);
  std::span<double> prof = o.profile ? std::span<double>(t.per_node) : std::span<double>();
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    auto t0 = Clock::now();
    const runtime::RunOptions run = feed.next(i);
    if (o.profile && i >= o.warmup) t.feed_s += seconds_since(t0);
    c.exec().run(run, i >= o.warmup ? prof : std::span<double>());
    const double step = seconds_since(t0);
    t0 = Clock::now();
    run_gemms<T>(calls);
    const double gemm = seconds_since(t0);
    if (i < o.warmup) continue;
    t.step.push_back(step);
    t.gemm.push_back(gemm);
  }
  return t;
}

}  // namespace

namespace {

bool is_gemm(OpKind op) { return op == OpKind::matmul || op == OpKind::matmul_bias; }

std::size_t fused_nets(const Graph& g) {
  std::size_t n = 0;
  for (NodeId id = 0; id < g.size(); ++id) n += g.node(id).op == OpKind::fused_net;
  return n;
}

// Where a step's time goes, as means per step: each op kind's kernels, the
// slowest nodes, the GEMM nodes against the same GEMMs run bare, and what is
// left outside the kernels (the executor's loop, the update).
void print_profile(const Compiled& c, const Timings& t, int steps) {
  const Graph& g = c.graph();
  const std::span<const NodeId> schedule = c.exec().schedule();
  std::map<std::string, double> by_op;
  double total = 0, gemm_nodes = 0;
  std::map<ops::GemmLibrary, double> by_library;
  for (std::size_t s = 0; s < t.per_node.size(); ++s) {
    const Node& n = g.node(schedule[s]);
    by_op[std::string(ops::op_def(n.op).name)] += t.per_node[s];
    total += t.per_node[s];
    if (!is_gemm(n.op)) continue;
    gemm_nodes += t.per_node[s];
    const ops::GemmKey key = *ops::node_gemm_key(g, schedule[s], c.capacity);
    by_library[ops::plan_gemm(key).library] += t.per_node[s];
  }
  const auto ms = [&](double sec) { return 1e3 * sec / steps; };
  double step_sum = 0, bare_sum = 0;
  for (double v : t.step) step_sum += v;
  for (double v : t.gemm) bare_sum += v;
  fmt::print("profile (means per step over {} steps):\n", steps);
  fmt::print("  step {:.4f} ms = kernels {:.4f} + batch gather {:.4f} + executor loop {:.4f}\n",
             ms(step_sum), ms(total), ms(t.feed_s), ms(step_sum - total - t.feed_s));
  fmt::print("  GEMM nodes {:.4f} ms ({:.1f}% of the step); the same GEMMs bare {:.4f} ms; the rest {:.4f} ms\n",
             ms(gemm_nodes), 100 * gemm_nodes / step_sum, ms(bare_sum), ms(step_sum - gemm_nodes));
  for (const auto& [lib, sec] : by_library)
    fmt::print("    on {:<8} {:9.4f} ms\n", ops::library_name(lib), ms(sec));
  fmt::print("  by op:\n");
  std::vector<std::pair<double, std::string>> rows;
  for (const auto& [name, sec] : by_op) rows.emplace_back(sec, name);
  std::sort(rows.rbegin(), rows.rend());
  for (const auto& [sec, name] : rows)
    fmt::print("    {:<28} {:9.4f} ms  {:5.1f}%\n", name, ms(sec), 100 * sec / total);
  std::vector<std::size_t> order(t.per_node.size());
  for (std::size_t s = 0; s < order.size(); ++s) order[s] = s;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return t.per_node[a] > t.per_node[b]; });
  order.resize(std::min<std::size_t>(order.size(), 15));
  fmt::print("  slowest nodes:\n");
  for (std::size_t s : order) {
    const Node& n = g.node(schedule[s]);
    std::string lib;
    if (is_gemm(n.op))
      lib = std::string(ops::library_name(
          ops::plan_gemm(*ops::node_gemm_key(g, schedule[s], c.capacity)).library));
    fmt::print("    {:<18} {:<28} {:<11} {:9.4f} ms  {:5.1f}%  {}\n", g.describe(schedule[s]),
               ops::op_def(n.op).name, to_string(n.shape), ms(t.per_node[s]), 100 * t.per_node[s] / total, lib);
  }
}

// How many GEMM nodes run on each library: {"onednn": 2, "openblas": 5, ...}.
nlohmann::json gemm_libraries(const Compiled& c) {
  std::map<std::string, int> count;
  for (NodeId id : c.exec().schedule())
    if (const auto key = ops::node_gemm_key(c.graph(), id, c.capacity))
      ++count[std::string(ops::library_name(ops::plan_gemm(*key).library))];
  return count;
}

void check_options(const BenchOptions& o) {
  if (o.steps < 1) throw InputError(fmt::format("--steps {} must be at least 1", o.steps));
  if (o.warmup < 0) throw InputError(fmt::format("--warmup {} must be at least 0", o.warmup));
  if (o.m < 1) throw InputError(fmt::format("--m {} must be at least 1", o.m));
  if (o.batch_size > 0 && o.samples < 1)
    throw InputError("--batch-size needs --samples N: the size of the data set it draws from");
  if (o.samples > 0 && o.batch_size < 1)
    throw InputError("--samples is the mini-batch data set's size: give --batch-size too");

}


int run_bench(const BenchOptions& o) {
  check_options(o);
  apply_threads(o.spec);
  if (dist::Comm::world().distributed()) return run_bench_data_parallel(o);
  const double probe_before = o.spec.threads > 1 ? gemm_probe(1) / gemm_probe(2) : 1.0;
  std::unique_ptr<Compiled> c = compile(o);
  StepFeed feed(*c, o);
  const bool f32 = to_dtype(o.spec) == DType::f32;
  Timings t = f32 ? time_steps<float>(*c, feed, o) : time_steps<double>(*c, feed, o);
  const double probe_after = o.spec.threads > 1 ? gemm_probe(1) / gemm_probe(2) : 1.0;
  const double med = quantile(t.step, 0.5), p90 = quantile(t.step, 0.9);
  const double gemm_med = quantile(t.gemm, 0.5);
  const double flops = gemm_flops(gemm_calls(c->graph(), c->exec().schedule(), c->capacity));
  const runtime::MemoryPlan& plan = c->exec().plan();
  const train::OptimizerConfig opt = optimizer_config(o);
  nlohmann::json j = {
      {"median_ms", 1e3 * med}, {"p90_ms", 1e3 * p90}, {"steps_per_s", 1.0 / med},
      {"gflops", flops / med * 1e-9}, {"gemm_median_ms", 1e3 * gemm_med},
      {"ratio_to_gemm", med / gemm_med}, {"arena_bytes", plan.arena_bytes},
      {"lower_bound_bytes", plan.lower_bound}, {"threads", o.spec.threads},
      {"core_check_before", probe_before}, {"core_check_after", probe_after},
      {"outside_gemm_ms", 1e3 * (med - gemm_med)},
      {"nodes", c->graph().size()}, {"simd", ops::vec::simd_enabled()},
      {"fused_net", fused_nets(c->graph()) > 0},
      {"optimizer", train::name_of(opt.kind)}, {"samples_per_step", c->capacity},
      {"compile_ms", 1e3 * (c->build_s + c->minimize_s + c->session_s)},
      {"gemm", ops::gemm_mode_name(ops::gemm_mode())},
      {"gemm_libraries", gemm_libraries(*c)}};
  if (o.json) {
    fmt::print("{}\n", j.dump());
    return 0;
  }
  const std::string layers = o.spec.layers.size() <= 12
                               ? fmt::format("{}", fmt::join(o.spec.layers, ","))
                               : fmt::format("{} layers", o.spec.layers.size() - 1);
  const std::string samples = o.batch_size > 0
                                  ? fmt::format("batches of {} from {} shuffled samples", c->capacity, o.samples)
                                  : fmt::format("m={}", o.m);
  fmt::print("model {} {} {} {} threads={} optimized={}{} simd={}\n", layers, samples, o.spec.dtype,
             train::name_of(opt.kind), o.spec.threads, !o.no_opt,
             fused_nets(c->graph()) > 0 ? " (one fused_net step)" : "", ops::vec::simd_enabled());
  fmt::print("compile: build {:.2f} ms, minimize (gradients and update) {:.2f} ms, session "
             "(optimize, plan) {:.2f} ms ({} nodes, --gemm {})\n",
             1e3 * c->build_s, 1e3 * c->minimize_s, 1e3 * c->session_s, c->graph().size(),
             ops::gemm_mode_name(ops::gemm_mode()));
  fmt::print("step: median {:.4f} ms  p90 {:.4f} ms  {:.1f} steps/s  {:.2f} GFLOP/s\n", 1e3 * med,
             1e3 * p90, 1.0 / med, flops / med * 1e-9);
  fmt::print("gemm-only: median {:.4f} ms  ratio step/gemm {:.3f}  outside GEMMs {:.4f} ms per step\n",
             1e3 * gemm_med, med / gemm_med, 1e3 * (med - gemm_med));
  fmt::print("memory: peak arena {} bytes, lower bound {} bytes (ratio {:.3f})\n", plan.arena_bytes,
             plan.lower_bound, double(plan.arena_bytes) / double(std::max<std::size_t>(plan.lower_bound, 1)));
  if (o.spec.threads > 1)
    fmt::print("core check (1-thread / 2-thread sgemm time): before {:.2f}, after {:.2f}{}\n",
               probe_before, probe_after,
               std::min(probe_before, probe_after) < 1.5 ? "  WARNING: threads shared a core" : "");
  if (o.profile) print_profile(*c, t, o.steps);
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, Commands& out) {
  auto opts = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "time full training steps against the same GEMMs alone");
  add_spec_options(cmd, opts->spec);
  add_optimizer_flags(cmd, opts->optimizer, "the optimizer of the timed step (gd by default): ");
  cmd->add_option("--m", opts->m, "samples per step (columns of X), full batch");
  cmd->add_option("--batch-size", opts->batch_size,
                  "mini-batches of this many samples from --samples, shuffled per epoch as fit does");
  cmd->add_option("--samples", opts->samples, "the mini-batch data set's size (with --batch-size)");
  cmd->add_option("--steps", opts->steps, "timed steps");
  cmd->add_option("--warmup", opts->warmup, "untimed steps first");
  cmd->add_flag("--no-opt", opts->no_opt, "run the graph without passes::optimize");
  cmd->add_flag("--profile", opts->profile,
                "time each kernel: per op and per node, GEMMs against the rest");
  cmd->add_flag("--json", opts->json, "print one JSON object (for bench/peer.py)");
  add_bucket_option(cmd, opts->bucket_mb);
  out.push_back({cmd, [opts] { return run_bench(*opts); }});
}

}  // namespace dagrad::cli
