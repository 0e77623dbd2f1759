// dagrad bench: times the full training step (forward, cost, backward, plain
// gradient-descent update) of a model spec on synthetic data, alternating
// each step with a GEMM-only run of the same cblas calls on separate buffers,
// so that both see the same machine state. Prints median / p90 ms per step,
// steps per second, GFLOP/s, the arena's peak bytes and the ratio to GEMMs.
// The GEMM-only run calls each GEMM's planned library (ops/gemm_planner.hpp),
// so the ratio compares against the library the step itself uses. --profile
// times every kernel and says where the step's time beyond its GEMMs goes.
// Under mpirun (dist/comm.hpp) it times a data-parallel training step
// instead: the global batch --m split over the processes, each running
// forward, backward, the sums of its gradient buckets (--bucket-mb) and the
// update, as `mpirun dagrad train` does; the step's time is the slowest
// process's.
#include <algorithm>
#include <chrono>
#include <map>

#include <cblas.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/autodiff/gradients.hpp"
#include "cli/commands.hpp"
#include "cli/distributed.hpp"
#include "cli/model_spec.hpp"
#include "dagrad/dist/comm.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/vecmath.hpp"
#include "dagrad/passes/optimize.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/init.hpp"
#include "dagrad/train/session.hpp"

namespace dagrad::cli {

namespace {

struct BenchOptions {
  SpecOptions spec;
  std::int64_t m = 256;
  int steps = 50;
  int warmup = 3;
  double lr = 0.01;
  bool no_opt = false;
  bool profile = false;
  bool json = false;
  double bucket_mb = 25;  // data-parallel runs: the gradient buckets' size
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * double(v.size() - 1) + 0.5)];
}

// One GEMM of the plan, replayed on buffers of its own.
struct GemmCall {
  Shape a, b, c;
  bool ta, tb;
  double alpha, beta;
  runtime::Tensor A, B, C;
};

std::vector<GemmCall> gemm_calls(const Graph& g, std::span<const NodeId> schedule) {
  std::vector<GemmCall> out;
  for (NodeId id : schedule) {
    const Node& n = g.node(id);
    if (n.op != OpKind::matmul && n.op != OpKind::matmul_bias) continue;
    const Shape a = g.node(n.inputs[0]).shape, b = g.node(n.inputs[1]).shape;
    out.push_back(GemmCall{a, b, n.shape, n.attrs.trans_a, n.attrs.trans_b, n.attrs.scale,
                           n.op == OpKind::matmul_bias ? 1.0 : 0.0,
                           runtime::Tensor(n.dtype, a), runtime::Tensor(n.dtype, b),
                           runtime::Tensor(n.dtype, n.shape)});
  }
  return out;
}

double gemm_flops(const std::vector<GemmCall>& calls) {
  double f = 0;
  for (const GemmCall& c : calls) f += 2.0 * double(c.c.size()) * double(c.ta ? c.a.rows : c.a.cols);
  return f;
}

template <class T>
void run_gemms(std::vector<GemmCall>& calls) {
  for (GemmCall& c : calls)
    ops::blas_gemm<T>({c.A.raw(), c.a}, c.ta, {c.B.raw(), c.b}, c.tb, T(c.alpha), T(c.beta),
                 {c.C.raw(), c.c});
}

// Seconds per 512^3 sgemm: the 2-core check that tells whether the VM gave
// both threads a core of their own (OpenBLAS always, not a planned shape).
double gemm_probe(int threads) {
  const int saved = runtime::threads();
  runtime::set_threads(threads);
  const Shape s{512, 512};
  runtime::Tensor A(DType::f32, s), B(DType::f32, s), C(DType::f32, s);
  std::vector<double> t;
  for (int i = 0; i < 7; ++i) {
    const auto t0 = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 512, 512, 512, 1.0f, A.data<float>(), 512,
                B.data<float>(), 512, 0.0f, C.data<float>(), 512);
    t.push_back(seconds_since(t0));
  }
  runtime::set_threads(saved);
  return quantile(t, 0.5);
}

}  // namespace

namespace {

// The model, its gradients, the optimized graph and the executor, with the
// time each stage of compilation took.
struct Compiled {
  Graph g;
  models::Mlp model;
  passes::Rewritten opt;
  std::unique_ptr<runtime::Executor> exec;
  double build_s = 0, grad_s = 0, opt_s = 0, plan_s = 0, gemm_select_s = 0;
  std::vector<NodeId> grads;  // in opt.graph
};

std::unique_ptr<Compiled> compile(const BenchOptions& o) {
  auto c = std::make_unique<Compiled>();
  c->g = Graph(to_dtype(o.spec));
  auto t0 = Clock::now();
  c->model = models::build_mlp(c->g, to_model_spec(o.spec), o.m);
  c->build_s = seconds_since(t0);
  t0 = Clock::now();
  const std::vector<Expr> params = c->model.params();
  const std::vector<Expr> dparams = gradients(c->model.J, params);
  c->grad_s = seconds_since(t0);
  std::vector<NodeId> outputs{c->model.J.id};
  for (Expr d : dparams) outputs.push_back(d.id);
  t0 = Clock::now();
  passes::PassOptions popt;
  if (o.no_opt) popt = passes::PassOptions::none();
  c->opt = passes::optimize(c->g, outputs, popt);
  c->opt_s = seconds_since(t0);
  // The GEMM library choice (timing each large shape on both libraries) is
  // made here, apart, so that `plan` stays the memory plan's time; the
  // executor then finds every shape decided.
  t0 = Clock::now();
  ops::plan_gemms(c->opt.graph, c->opt.graph.schedule(c->opt.outputs));
  c->gemm_select_s = seconds_since(t0);
  t0 = Clock::now();
  c->exec = std::make_unique<runtime::Executor>(c->opt.graph, c->opt.outputs);
  c->plan_s = seconds_since(t0);
  c->grads.assign(c->opt.outputs.begin() + 1, c->opt.outputs.end());
  return c;
}

// Synthetic X ~ N(0, 1), labels 0/1 (sigmoid) or one-hot (softmax), He init.
struct Data {
  runtime::Tensor X, Y;
  std::vector<runtime::Tensor> params;
};

Data make_data(const Compiled& c, const BenchOptions& o) {
  const DType t = to_dtype(o.spec);
  Data d{runtime::Tensor(t, c.model.X.shape()), runtime::Tensor(t, c.model.Y.shape()), {}};
  std::vector<double> r(static_cast<std::size_t>(d.X.size()));
  train::fill_randn(r, o.spec.seed, 1);
  for (std::size_t i = 0; i < r.size(); ++i) d.X.set(std::int64_t(i), r[i]);
  const Shape ys = d.Y.shape();
  std::vector<double> u(static_cast<std::size_t>(ys.cols));
  train::fill_randn(u, o.spec.seed, 2);
  for (std::int64_t j = 0; j < ys.cols; ++j) {
    if (ys.rows == 1) d.Y.set(j, u[std::size_t(j)] > 0 ? 1.0 : 0.0);
    else d.Y.set((static_cast<std::int64_t>(std::abs(u[std::size_t(j)]) * 1000) % ys.rows) * ys.cols + j, 1.0);
  }
  d.params = train::init_params(c.model, train::Init::he, o.spec.seed, t);
  return d;
}

void bind_all(Compiled& c, Data& d) {
  auto bind = [&](const std::string& name, const runtime::Tensor& t) {
    const auto id = c.opt.graph.find(name);
    if (id) c.exec->bind(*id, t);  // an unused leaf (no path to J) is not scheduled
  };
  bind("X", d.X);
  bind("Y", d.Y);
  const std::vector<std::string> names = c.model.param_names();
  for (std::size_t k = 0; k < names.size(); ++k) bind(names[k], d.params[k]);
}

// W -= lr dW for every parameter.
template <class T>
void update(Compiled& c, Data& d, double lr) {
  for (std::size_t k = 0; k < d.params.size(); ++k) {
    const auto g = c.exec->values<T>(c.grads[k]);
    T* w = d.params[k].data<T>();
    if constexpr (std::is_same_v<T, float>)
      cblas_saxpy(blasint(g.size()), float(-lr), g.data(), 1, w, 1);
    else
      cblas_daxpy(blasint(g.size()), -lr, g.data(), 1, w, 1);
  }
}

struct Timings {
  std::vector<double> step, gemm;
  std::vector<double> per_node;  // --profile: seconds per schedule step, summed over steps
  double update_s = 0;           // --profile: the W -= lr dW loop, summed over steps
};

template <class T>
Timings time_steps(Compiled& c, Data& d, const BenchOptions& o) {
  std::vector<GemmCall> calls = gemm_calls(c.opt.graph, c.exec->schedule());
  Timings t;
  t.per_node.assign(c.exec->schedule().size(), 0.0);
  std::span<double> prof = o.profile ? std::span<double>(t.per_node) : std::span<double>();
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    auto t0 = Clock::now();
    c.exec->run({true, std::uint64_t(i), false}, i >= o.warmup ? prof : std::span<double>());
    const auto t_update = Clock::now();
    update<T>(c, d, o.lr);
    if (o.profile && i >= o.warmup) t.update_s += seconds_since(t_update);
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

// Where a step's time goes, as means per step: each op kind's kernels, the
// slowest nodes, the GEMM nodes against the same GEMMs run bare, and what is
// left outside the kernels (the executor's loop, the update).
void print_profile(const Compiled& c, const Timings& t, int steps) {
  const Graph& g = c.opt.graph;
  const std::span<const NodeId> schedule = c.exec->schedule();
  std::map<std::string, double> by_op;
  double total = 0, gemm_nodes = 0;
  std::map<ops::GemmLibrary, double> by_library;
  for (std::size_t s = 0; s < t.per_node.size(); ++s) {
    const Node& n = g.node(schedule[s]);
    by_op[std::string(ops::op_def(n.op).name)] += t.per_node[s];
    total += t.per_node[s];
    if (!is_gemm(n.op)) continue;
    gemm_nodes += t.per_node[s];
    const ops::GemmKey key = *ops::node_gemm_key(g, schedule[s], ops::gemm_threads());
    by_library[ops::plan_gemm(key).library] += t.per_node[s];
  }
  const auto ms = [&](double sec) { return 1e3 * sec / steps; };
  double step_sum = 0, bare_sum = 0;
  for (double v : t.step) step_sum += v;
  for (double v : t.gemm) bare_sum += v;
  fmt::print("profile (means per step over {} steps):\n", steps);
  fmt::print("  step {:.4f} ms = kernels {:.4f} + update {:.4f} + executor loop {:.4f}\n", ms(step_sum),
             ms(total), ms(t.update_s), ms(step_sum - total - t.update_s));
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
      lib = std::string(ops::library_name(ops::plan_gemm(*ops::node_gemm_key(g, schedule[s], ops::gemm_threads())).library));
    fmt::print("    {:<18} {:<28} {:<11} {:9.4f} ms  {:5.1f}%  {}\n", g.describe(schedule[s]),
               ops::op_def(n.op).name, to_string(n.shape), ms(t.per_node[s]), 100 * t.per_node[s] / total, lib);
  }
}

// How many GEMM nodes run on each library: {"onednn": 2, "openblas": 5, ...}.
nlohmann::json gemm_libraries(const Compiled& c) {
  std::map<std::string, int> count;
  for (NodeId id : c.exec->schedule())
    if (const auto key = ops::node_gemm_key(c.opt.graph, id, ops::gemm_threads()))
      ++count[std::string(ops::library_name(ops::plan_gemm(*key).library))];
  return count;
}

void check_options(const BenchOptions& o) {
  if (o.steps < 1) throw InputError(fmt::format("--steps {} must be at least 1", o.steps));
  if (o.warmup < 0) throw InputError(fmt::format("--warmup {} must be at least 0", o.warmup));
  if (o.m < 1) throw InputError(fmt::format("--m {} must be at least 1", o.m));

}

// ---- data-parallel (under mpirun) ----------------------------------------------

// The multiply-adds of one training step's GEMMs for a global batch of m:
// Z = W A (forward), dW = dZ A^T and dA = W^T dZ (backward, no dA for X).
double step_flops(const std::vector<std::int64_t>& layers, std::int64_t m) {
  double f = 0;
  for (std::size_t l = 1; l < layers.size(); ++l)
    f += 2.0 * double(layers[l]) * double(layers[l - 1]) * double(m) * (l == 1 ? 2 : 3);
  return f;
}

// This process's columns [lo, hi) of the synthetic global batch: X ~ N(0, 1)
// and class labels drawn from the seed, the same whatever the process count.
io::Dataset batch_part(const BenchOptions& o, std::int64_t lo, std::int64_t hi) {
  const std::int64_t n0 = o.spec.layers.front(), classes = std::max<std::int64_t>(o.spec.layers.back(), 2);
  std::vector<double> x(static_cast<std::size_t>(n0 * o.m)), u(static_cast<std::size_t>(o.m));
  train::fill_randn(x, o.spec.seed, 1);
  train::fill_randn(u, o.spec.seed, 2);
  io::Dataset d;
  d.origin = "synthetic batch";
  d.X = io::Matrix(Shape{n0, hi - lo});
  d.Y = io::Matrix(Shape{1, hi - lo});
  for (std::int64_t j = lo; j < hi; ++j) {
    for (std::int64_t k = 0; k < n0; ++k) d.X(k, j - lo) = x[static_cast<std::size_t>(j * n0 + k)];
    const double v = u[static_cast<std::size_t>(j)];
    d.Y(0, j - lo) = classes == 2 ? (v > 0 ? 1.0 : 0.0) : double(static_cast<std::int64_t>(std::abs(v) * 1000) % classes);
  }
  return d;
}

int run_bench_data_parallel(const BenchOptions& o) {
  dist::Comm& world = dist::Comm::world();
  const int N = world.size(), r = world.rank();
  if (o.m < N)
    throw InputError(fmt::format("--m {}: a global batch smaller than the {} processes leaves some without "
                                 "samples; give --m >= {}", o.m, N, N));
  if (o.profile || o.no_opt)
    throw InputError("--profile and --no-opt time one process; run them without mpirun");
  const std::int64_t lo = o.m * r / N, hi = o.m * (r + 1) / N;
  auto t0 = Clock::now();
  models::Model model = models::build_mlp(to_model_spec(o.spec), to_dtype(o.spec));
  model.minimize({train::OptimizerKind::gd, o.lr});
  model.set_init(train::Init::he);
  model.init_params(o.spec.seed);
  const dist::DataParallelOptions dp{o.bucket_mb};
  train::Session session(model, train::Use::train, hi - lo, true, &dp);
  train::Feeder feeder(session, train::sample_data(model, batch_part(o, lo, hi), true), hi - lo);
  feeder.feed_range(0, hi - lo);
  const double compile_s = seconds_since(t0);
  // Per step: the slowest process's time, and the time this one spent in the
  // waits for its buckets' sums (the communication the backward pass did not hide).
  const std::span<const NodeId> schedule = session.exec().schedule();
  std::vector<double> node_s(schedule.size()), step, waited;
  int buckets = 0;
  for (NodeId id : schedule) buckets += session.graph().node(id).op == OpKind::allreduce_start;
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    std::fill(node_s.begin(), node_s.end(), 0.0);
    world.barrier();
    t0 = Clock::now();
    session.exec().run({.training = true, .step = std::uint64_t(i), .batch = o.m, .collectives = &world},
                       node_s);
    const double s = world.max(seconds_since(t0));
    if (i < o.warmup) continue;
    double w = 0;
    for (std::size_t k = 0; k < schedule.size(); ++k)
      if (session.graph().node(schedule[k]).op == OpKind::allreduce_wait) w += node_s[k];
    step.push_back(s);
    waited.push_back(w);
  }
  // The sum of every gradient alone, as one bucket (the alpha-beta model's
  // allreduce time, docs/scaling.md).
  std::int64_t values = 0;
  for (Expr p : model.params()) values += p.shape().size();
  std::vector<float> grads(static_cast<std::size_t>(values), 1.0f);
  std::vector<double> sum_s;
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    world.barrier();
    t0 = Clock::now();
    world.start(0, grads.data(), values, DType::f32);
    world.wait(0);
    const double s = world.max(seconds_since(t0));
    if (i >= o.warmup) sum_s.push_back(s);
  }
  if (r != 0) return 0;
  const double med = quantile(step, 0.5), p90 = quantile(step, 0.9), flops = step_flops(o.spec.layers, o.m);
  if (o.json) {
    fmt::print("{}\n", nlohmann::json{{"median_ms", 1e3 * med}, {"p90_ms", 1e3 * p90}, {"steps_per_s", 1.0 / med},
                                      {"gflops", flops / med * 1e-9}, {"processes", N}, {"buckets", buckets},
                                      {"wait_median_ms", 1e3 * quantile(waited, 0.5)},
                                      {"sum_median_ms", 1e3 * quantile(sum_s, 0.5)}, {"sum_bytes", 4 * values},
                                      {"threads", o.spec.threads}, {"global_m", o.m}}
                          .dump());
    return 0;
  }
  fmt::print("model {} m={} (global, {} processes) {} threads={} data-parallel, {} bucket{} of <= {:g} MiB\n",
             fmt::join(o.spec.layers, ","), o.m, N, o.spec.dtype, o.spec.threads, buckets, buckets == 1 ? "" : "s",
             o.bucket_mb);
  fmt::print("compile: {:.2f} ms ({} nodes)\n", 1e3 * compile_s, session.graph().size());
  fmt::print("step: median {:.4f} ms  p90 {:.4f} ms  {:.1f} steps/s  {:.2f} GFLOP/s\n", 1e3 * med, 1e3 * p90,
             1.0 / med, flops / med * 1e-9);
  fmt::print("waiting for the sums (rank 0): median {:.4f} ms per step; the {} bytes of gradients summed "
             "alone: median {:.4f} ms\n", 1e3 * quantile(waited, 0.5), 4 * values, 1e3 * quantile(sum_s, 0.5));
  return 0;
}

int run_bench(const BenchOptions& o) {
  check_options(o);
  apply_threads(o.spec);
  if (dist::Comm::world().distributed()) return run_bench_data_parallel(o);
  const double probe_before = o.spec.threads > 1 ? gemm_probe(1) / gemm_probe(2) : 1.0;
  std::unique_ptr<Compiled> c = compile(o);
  Data d = make_data(*c, o);
  bind_all(*c, d);
  const bool f32 = to_dtype(o.spec) == DType::f32;
  Timings t = f32 ? time_steps<float>(*c, d, o) : time_steps<double>(*c, d, o);
  const double probe_after = o.spec.threads > 1 ? gemm_probe(1) / gemm_probe(2) : 1.0;
  const double med = quantile(t.step, 0.5), p90 = quantile(t.step, 0.9);
  const double gemm_med = quantile(t.gemm, 0.5);
  const double flops = gemm_flops(gemm_calls(c->opt.graph, c->exec->schedule()));
  const runtime::MemoryPlan& plan = c->exec->plan();
  nlohmann::json j = {
      {"median_ms", 1e3 * med}, {"p90_ms", 1e3 * p90}, {"steps_per_s", 1.0 / med},
      {"gflops", flops / med * 1e-9}, {"gemm_median_ms", 1e3 * gemm_med},
      {"ratio_to_gemm", med / gemm_med}, {"arena_bytes", plan.arena_bytes},
      {"lower_bound_bytes", plan.lower_bound}, {"threads", o.spec.threads},
      {"core_check_before", probe_before}, {"core_check_after", probe_after},
      {"nodes", c->opt.graph.size()}, {"simd", ops::vec::simd_enabled()},
      {"compile_ms", 1e3 * (c->build_s + c->grad_s + c->opt_s + c->plan_s)},
      {"gemm_select_ms", 1e3 * c->gemm_select_s}, {"gemm", ops::gemm_mode_name(ops::gemm_mode())},
      {"gemm_libraries", gemm_libraries(*c)}};
  if (o.json) {
    fmt::print("{}\n", j.dump());
    return 0;
  }
  const std::string layers = o.spec.layers.size() <= 12
                               ? fmt::format("{}", fmt::join(o.spec.layers, ","))
                               : fmt::format("{} layers", o.spec.layers.size() - 1);
  fmt::print("model {} m={} {} threads={} optimized={} simd={}\n", layers, o.m, o.spec.dtype, o.spec.threads, !o.no_opt, ops::vec::simd_enabled());
  fmt::print("compile: build {:.2f} ms, gradients {:.2f} ms, optimize {:.2f} ms, plan {:.2f} ms "
             "({} nodes); GEMM selection {:.2f} ms (--gemm {})\n", 1e3 * c->build_s, 1e3 * c->grad_s,
             1e3 * c->opt_s, 1e3 * c->plan_s, c->opt.graph.size(), 1e3 * c->gemm_select_s,
             ops::gemm_mode_name(ops::gemm_mode()));
  fmt::print("step: median {:.4f} ms  p90 {:.4f} ms  {:.1f} steps/s  {:.2f} GFLOP/s\n", 1e3 * med,
             1e3 * p90, 1.0 / med, flops / med * 1e-9);
  fmt::print("gemm-only: median {:.4f} ms  ratio step/gemm {:.3f}\n", 1e3 * gemm_med, med / gemm_med);
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
  cmd->add_option("--m", opts->m, "samples per step (columns of X)");
  cmd->add_option("--steps", opts->steps, "timed steps");
  cmd->add_option("--warmup", opts->warmup, "untimed steps first");
  cmd->add_option("--lr", opts->lr, "learning rate of the update");
  cmd->add_flag("--no-opt", opts->no_opt, "run the graph without passes::optimize");
  cmd->add_flag("--profile", opts->profile,
                "time each kernel: per op and per node, GEMMs against the rest");
  cmd->add_flag("--json", opts->json, "print one JSON object (for bench/peer.py)");
  add_bucket_option(cmd, opts->bucket_mb);
  out.push_back({cmd, [opts] { return run_bench(*opts); }});
}

}  // namespace dagrad::cli
