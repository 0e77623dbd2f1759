#include "cli/bench_mpi.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/bench_data.hpp"
#include "dagrad/dist/comm.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/models/init.hpp"
#include "dagrad/train/session.hpp"

namespace dagrad::cli {

namespace {

// The multiply-adds of one training step's GEMMs for a global batch of m:
// Z = W A (forward), dW = dZ A^T and dA = W^T dZ (backward, no dA for X).
double step_flops(const std::vector<std::int64_t>& layers, std::int64_t m) {
  double f = 0;
  for (std::size_t l = 1; l < layers.size(); ++l)
    f += 2.0 * double(layers[l]) * double(layers[l - 1]) * double(m) * (l == 1 ? 2 : 3);
  return f;
}

}  // namespace

int run_bench_data_parallel(const BenchOptions& o) {
  dist::Comm& world = dist::Comm::world();
  const int N = world.size(), r = world.rank();
  if (o.m < N)
    throw InputError(fmt::format("--m {}: a global batch smaller than the {} processes leaves some without "
                                 "samples; give --m >= {}", o.m, N, N));
  if (o.no_opt) throw InputError("--no-opt times one process; run it without mpirun");
  const std::int64_t lo = o.m * r / N, hi = o.m * (r + 1) / N;
  auto t0 = Clock::now();
  models::Model model = models::build_mlp(to_model_spec(o.spec), to_dtype(o.spec));
  model.minimize(optimizer_config(o));
  model.set_init(models::Init::he);
  model.init_params(o.spec.seed);
  const dist::DataParallelOptions dp{o.bucket_mb};
  train::Session session(model, train::Use::train, hi - lo, {}, &dp);
  train::Feeder feeder(session, train::sample_data(model, batch_part(o, lo, hi), true), hi - lo);
  feeder.feed_range(0, hi - lo);
  const double compile_s = seconds_since(t0);
  // Per step: the slowest process's time, and the time this one spent in the
  // waits for its buckets' sums (the communication the backward pass did not hide).
  const std::span<const NodeId> schedule = session.exec().schedule();
  std::vector<double> node_s(schedule.size()), step, waited;
  int buckets = 0;
  std::vector<std::size_t> waits;  // each bucket's wait, by its step in the schedule
  for (std::size_t k = 0; k < schedule.size(); ++k) {
    const OpKind op = session.graph().node(schedule[k]).op;
    buckets += op == OpKind::allreduce_start;
    if (op == OpKind::allreduce_wait) waits.push_back(k);
  }
  std::vector<std::vector<double>> bucket_waits(waits.size());
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    std::fill(node_s.begin(), node_s.end(), 0.0);
    world.barrier();
    t0 = Clock::now();
    session.exec().run({.training = true, .step = std::uint64_t(i), .batch = o.m, .collectives = &world},
                       node_s);
    const double s = world.max(seconds_since(t0));
    if (i < o.warmup) continue;
    double w = 0;
    for (std::size_t b = 0; b < waits.size(); ++b) {
      w += node_s[waits[b]];
      bucket_waits[b].push_back(node_s[waits[b]]);
    }
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
  std::vector<double> bucket_wait_ms;
  for (const std::vector<double>& v : bucket_waits) bucket_wait_ms.push_back(1e3 * quantile(v, 0.5));
  const double med = quantile(step, 0.5), p90 = quantile(step, 0.9), flops = step_flops(o.spec.layers, o.m);
  if (o.json) {
    fmt::print("{}\n", nlohmann::json{{"median_ms", 1e3 * med}, {"p90_ms", 1e3 * p90}, {"steps_per_s", 1.0 / med},
                                      {"gflops", flops / med * 1e-9}, {"processes", N}, {"buckets", buckets},
                                      {"wait_median_ms", 1e3 * quantile(waited, 0.5)},
                                      {"sum_median_ms", 1e3 * quantile(sum_s, 0.5)}, {"sum_bytes", 4 * values},
                                      {"bucket_wait_ms", bucket_wait_ms},
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
  // --profile: each bucket's exposed wait (the time its wait node blocked,
  // its sum not hidden behind the kernels between its start and its wait).
  if (o.profile)
    for (std::size_t b = 0; b < waits.size(); ++b) {
      const NodeId wait = schedule[waits[b]];
      const NodeId start = session.graph().node(wait).inputs[0];
      fmt::print("  {} ({} bytes): exposed wait median {:.4f} ms, p90 {:.4f} ms\n",
                 session.graph().describe(start),
                 session.graph().node(start).shape.size() * std::int64_t(dtype_size(session.graph().dtype())),
                 bucket_wait_ms[b], 1e3 * quantile(bucket_waits[b], 0.9));
    }
  return 0;
}

}  // namespace dagrad::cli
