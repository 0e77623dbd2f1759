// The data-parallel tests, a program of their own that runs under mpirun
// (tests/CMakeLists.txt registers it with -np 2 and -np 3 --oversubscribe).
// Every process runs every check in the same order; a check that fails
// prints its message on that process, and the program fails on all of them.
// An exception ends the job (MPI_Abort), so no process waits forever.
//
//   sums       Comm's sums against the rank-order sum computed here from
//              every process's values: bit for bit, on every process, for
//              f32 and f64 buckets of every length around the process count.
//   training   f64, Adam, dropout, L2 and normalization, mini-batches whose
//              last one leaves some processes without samples: the
//              parameters after several epochs on N = 1 (Comm::self), 2 (a
//              split of the job) and 3 processes agree to 1e-10; after every
//              update every process holds the same bits; two runs with the
//              same N give the same bits.
//   fused      narrow nets (W-tiny's 2-4-1 tanh; a softmax net at the fused
//              kernel's width limit, 32-32-16-10 relu, as W-mb is trained:
//              mini-batches) with every optimizer: the data-parallel step
//              runs the fused kernel's two stages with the sums between
//              (the plan holds them), and over N = 2 and 3 processes the
//              parameters and costs equal one process's on the whole batch
//              to 1e-10 (f64).
//   evaluate   the cost and accuracy over N processes against one process.
//   asked for  without FitOptions::comm (or evaluate's comm) each process
//              runs alone, under mpirun too: the bits of Comm::self's run;
//              a shard given so is refused.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dagrad/dist/comm.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/optim/optimizer.hpp"
#include "dagrad/optim/registry.hpp"
#include "dagrad/train/fit.hpp"
#include "dagrad/train/session.hpp"

using namespace dagrad;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (ok) return;
  ++failures;
  fmt::print(stderr, "FAILED on process {}: {}\n", dist::Comm::world().rank(), what);
}

// ---- sums ----------------------------------------------------------------------

// Process p's value i: magnitudes that make the order of the additions show.
double value_of(int p, std::int64_t i) {
  return std::ldexp(1.0 + 0.37 * double((p * 131 + i * 7) % 19), static_cast<int>((p * 17 + i * 5) % 60) - 30) *
         ((i + p) % 3 == 0 ? -1.0 : 1.0);
}

template <class T>
void check_sums(dist::Comm& comm, std::int64_t n) {
  std::vector<T> mine(static_cast<std::size_t>(n)), want(mine.size());
  for (std::int64_t i = 0; i < n; ++i) {
    mine[static_cast<std::size_t>(i)] = static_cast<T>(value_of(comm.rank(), i));
    // The rank-order sum of every process's (rounded) value, in double,
    // rounded once: what dist/comm.hpp promises.
    double acc = static_cast<T>(value_of(0, i));
    for (int p = 1; p < comm.size(); ++p) acc += static_cast<T>(value_of(p, i));
    want[static_cast<std::size_t>(i)] = static_cast<T>(acc);
  }
  comm.start(7, mine.data(), n, std::is_same_v<T, float> ? DType::f32 : DType::f64);
  comm.progress();
  comm.wait(7);
  check(std::memcmp(mine.data(), want.data(), mine.size() * sizeof(T)) == 0,
        fmt::format("{}-value {} bucket summed over {} processes: not the rank-order sum", n,
                    sizeof(T) == 4 ? "f32" : "f64", comm.size()));
}

void sums(dist::Comm& world) {
  for (std::int64_t n : {1, 2, 3, 4, 5, 7, 64, 1001}) {
    check_sums<double>(world, n);
    check_sums<float>(world, n);
  }
  std::vector<double> v{value_of(world.rank(), 0), 1.0};
  world.sum(v);
  double want = value_of(0, 0);
  for (int p = 1; p < world.size(); ++p) want += value_of(p, 0);
  check(v[0] == want && v[1] == double(world.size()), "Comm::sum is not the rank-order sum");
}

// ---- training ------------------------------------------------------------------

// 101 samples in batches of 20: the last batch has 1, so of 2 or 3
// processes all but one hold none of it.
constexpr std::int64_t samples = 101, batch = 20, epochs = 4;

io::Dataset data_set() {
  io::Dataset d;
  d.origin = "generated";
  d.X = io::Matrix({5, samples});
  d.Y = io::Matrix({1, samples});
  for (std::int64_t i = 0; i < samples; ++i) {
    for (std::int64_t k = 0; k < 5; ++k)
      d.X(k, i) = 3.0 + 2.0 * std::sin(1.3 * double(i + 1) + 0.7 * double(k)) * (1.0 + 0.1 * double(k));
    d.Y(0, i) = (i * 7 + 3) % 5 < 2 ? 1.0 : 0.0;
  }
  return d;
}

models::Model make_model() {
  models::ModelSpec spec;
  spec.layers = {5, 7, 6, 1};
  spec.hidden = models::Activation::relu;
  spec.keep_prob = {0.8};
  spec.l2 = 0.3;
  spec.seed = 11;
  return models::build_mlp(spec, DType::f64);
}

// A hash of every parameter and optimizer state value's bits.
std::uint64_t hash_of(const models::Model& m) {
  std::uint64_t h = 1469598103934665603ull;
  for (const std::string& name : m.value_names()) {
    const runtime::Tensor& t = m.value(name);
    const auto* p = static_cast<const unsigned char*>(t.raw());
    for (std::size_t k = 0; k < static_cast<std::size_t>(t.size()) * dtype_size(t.dtype()); ++k)
      h = (h ^ p[k]) * 1099511628211ull;
  }
  return h;
}

struct Run {
  models::Model model = make_model();
  train::FitResult result;
  int steps_differing = 0;  // updates after which the processes' bits differed
};

// Trains over `comm`; with `cut`, each process gets its shard, else the
// whole set (fit cuts its block).
Run train_on(dist::Comm& comm, bool cut) {
  Run r;
  const io::Dataset whole = data_set();
  const io::Dataset part = cut ? io::shard_of(whole, comm.rank(), comm.size()) : whole;
  train::FitOptions o;
  o.epochs = epochs;
  o.batch_size = batch;
  o.optimizer.kind = train::OptimizerKind::adam;
  o.optimizer.learning_rate = 0.01;
  o.normalize = true;
  o.print_every = 0;
  o.out = nullptr;
  o.comm = &comm;
  o.data_parallel.bucket_mb = 1e-4;  // several buckets of a few gradients each
  o.after_step = [&](const models::Model& m) {
    const std::uint64_t h = hash_of(m);
    const double hi = double(h >> 32), lo = double(h & 0xffffffffu);
    if (comm.max(hi) != hi || comm.max(lo) != lo || -comm.max(-hi) != hi || -comm.max(-lo) != lo)
      ++r.steps_differing;
  };
  r.result = train::fit(r.model, part, nullptr, o);
  return r;
}

// max over elements of |a - b| / max(|a|, |b|), over every parameter.
double max_relative(const models::Model& a, const models::Model& b) {
  double worst = 0;
  for (Expr p : a.params()) {
    const runtime::Tensor &x = a.value(p.name()), &y = b.value(p.name());
    for (std::int64_t i = 0; i < x.size(); ++i) {
      const double d = std::abs(x.get(i) - y.get(i)), s = std::max(std::abs(x.get(i)), std::abs(y.get(i)));
      if (d > 0) worst = std::max(worst, d / s);
    }
  }
  return worst;
}

void training(dist::Comm& world) {
  const Run one = train_on(dist::Comm::self(), false);
  check(one.result.iterations == epochs * 6, "the reference run did not make every update");
  // N = 2 (the first two processes) and N = 3 (the whole job, when it has 3).
  for (int n = 2; n <= std::min(world.size(), 3); ++n) {
    dist::Comm comm = world.split(world.rank() < n ? 0 : -1);
    if (world.rank() >= n) continue;
    const Run a = train_on(comm, true), b = train_on(comm, false);
    const double rel = max_relative(one.model, a.model);
    if (comm.rank() == 0) fmt::print("N = {}: parameters vs one process: max relative difference {:.3g}\n", n, rel);
    check(rel <= 1e-10, fmt::format("N = {}: parameters differ from one process's by {:g} > 1e-10", n, rel));
    check(a.result.costs.size() == one.result.costs.size(), fmt::format("N = {}: not every update was made", n));
    for (std::size_t k = 0; k < std::min(a.result.costs.size(), one.result.costs.size()); ++k)
      check(std::abs(a.result.costs[k] - one.result.costs[k]) <= 1e-10 * std::abs(one.result.costs[k]),
            fmt::format("N = {}: cost of update {} is {} here, {} on one process", n, k, a.result.costs[k],
                        one.result.costs[k]));
    check(a.steps_differing == 0 && b.steps_differing == 0,
          fmt::format("N = {}: the processes' parameters differed after {} updates", n,
                      a.steps_differing + b.steps_differing));
    // Given its shard or the whole set to cut: the same run, the same bits.
    check(hash_of(a.model) == hash_of(b.model), fmt::format("N = {}: two runs gave different bits", n));
  }
}

// Data-parallel is asked for (FitOptions::comm), never implied by mpirun.
void asked_for(dist::Comm& world) {
  const Run one = train_on(dist::Comm::self(), false);
  Run alone;
  train::FitOptions o;
  o.epochs = epochs;
  o.batch_size = batch;
  o.optimizer.kind = train::OptimizerKind::adam;
  o.optimizer.learning_rate = 0.01;
  o.normalize = true;
  o.print_every = 0;
  o.out = nullptr;  // o.comm left at its default
  o.data_parallel.bucket_mb = 1e-4;
  alone.result = train::fit(alone.model, data_set(), nullptr, o);
  check(alone.result.iterations == one.result.iterations,
        fmt::format("default comm: {} updates here, {} on one process", alone.result.iterations, one.result.iterations));
  check(hash_of(alone.model) == hash_of(one.model), "default comm: the run is not this process's own");
  const io::Dataset part = io::shard_of(data_set(), world.rank(), world.size());
  models::Model m = make_model();
  std::string refused;
  try {
    train::fit(m, part, nullptr, o);
  } catch (const InputError& e) {
    refused = e.what();
  }
  check(refused.find("FitOptions::comm") != std::string::npos,
        "default comm: a shard was trained as if it were the whole set (" + refused + ")");
  refused.clear();
  try {
    train::evaluate(m, part);
  } catch (const InputError& e) {
    refused = e.what();
  }
  check(refused.find("shard") != std::string::npos, "evaluate: a shard was evaluated as the whole set");
}

// ---- fused ---------------------------------------------------------------------

struct NetCase {
  const char* name;
  models::ModelSpec spec;
  std::int64_t samples, batch;
};

io::Dataset net_data(const NetCase& c) {
  const std::int64_t n0 = c.spec.layers.front(), K = c.spec.layers.back();
  io::Dataset d;
  d.origin = "generated";
  d.X = io::Matrix({n0, c.samples});
  d.Y = io::Matrix({K, c.samples});
  for (std::int64_t i = 0; i < c.samples; ++i) {
    for (std::int64_t k = 0; k < n0; ++k) d.X(k, i) = std::sin(0.9 * double(i + 1) + 1.7 * double(k));
    if (K == 1) d.Y(0, i) = (i * 5 + 1) % 3 == 0 ? 1.0 : 0.0;
    else d.Y((i * 7 + 2) % K, i) = 1.0;  // one-hot
  }
  return d;
}

// Whether a data-parallel training session of `model` runs the fused
// kernel's gradients and update stages (and no whole fused step).
bool fused_stages(models::Model& model, std::int64_t capacity) {
  const dist::DataParallelOptions dp;
  train::Session s(model, train::Use::train, capacity, {}, &dp);
  int stages = 0;
  for (NodeId id : s.exec().schedule())
    if (const Node& n = s.graph().node(id); n.op == OpKind::fused_net)
      stages += n.attr<FusedNetAttrs>().stage == FusedStage::gradients ? 1
                : n.attr<FusedNetAttrs>().stage == FusedStage::update ? 2 : 10;
  return stages == 3;
}

void fused(dist::Comm& world) {
  models::ModelSpec tiny;
  tiny.layers = {2, 4, 1};
  tiny.hidden = models::Activation::tanh;
  models::ModelSpec mb;
  mb.layers = {32, 32, 16, 10};
  mb.output = models::Output::softmax;
  const NetCase cases[] = {{"2-4-1 tanh, full batch", tiny, 40, 0}, {"32-32-16-10 softmax, batch 16", mb, 50, 16}};
  for (const NetCase& c : cases) {
    const io::Dataset whole = net_data(c);
    for (const optim::Optimizer* opt : optim::all_optimizers()) {
      auto run = [&](dist::Comm& comm) {
        models::Model m = models::build_mlp(c.spec, DType::f64);
        m.init_params(3);
        train::FitOptions o;
        o.epochs = 2;
        o.batch_size = c.batch;
        o.optimizer.kind = opt->kind;
        o.optimizer.learning_rate = 0.05;
        o.print_every = 0;
        o.out = nullptr;
        o.comm = &comm;
        train::FitResult r =
            train::fit(m, comm.distributed() ? io::shard_of(whole, comm.rank(), comm.size()) : whole, nullptr, o);
        return std::pair{std::move(m), std::move(r)};
      };
      const auto [one_model, one] = run(dist::Comm::self());
      for (int n = 2; n <= std::min(world.size(), 3); ++n) {
        dist::Comm comm = world.split(world.rank() < n ? 0 : -1);
        if (world.rank() >= n) continue;
        const std::string what = fmt::format("fused {}, {}, N = {}", c.name, opt->name, n);
        {
          models::Model probe = models::build_mlp(c.spec, DType::f64);
          probe.minimize({.kind = opt->kind});
          probe.init_params(3);
          check(fused_stages(probe, c.batch ? c.batch : c.samples),
                what + ": the data-parallel plan does not run the fused kernel's two stages");
        }
        const auto [model, r] = run(comm);
        const double rel = max_relative(one_model, model);
        check(rel <= 1e-10, fmt::format("{}: parameters differ from one process's by {:g} > 1e-10", what, rel));
        check(r.costs.size() == one.costs.size() && !r.costs.empty(), what + ": not every update was made");
        for (std::size_t k = 0; k < std::min(r.costs.size(), one.costs.size()); ++k)
          check(std::abs(r.costs[k] - one.costs[k]) <= 1e-10 * std::abs(one.costs[k]),
                fmt::format("{}: cost of update {} is {} here, {} on one process", what, k, r.costs[k],
                            one.costs[k]));
      }
    }
  }
}

// ---- evaluate ------------------------------------------------------------------

void evaluate(dist::Comm& world) {
  models::Model model = make_model();
  model.init_params(model.seed);
  const io::Dataset whole = data_set();
  const train::Evaluation one = train::evaluate(model, whole, &dist::Comm::self());
  const io::Dataset part = io::shard_of(whole, world.rank(), world.size());
  const train::Evaluation all = train::evaluate(model, part, &world);
  check(std::abs(all.cost - one.cost) <= 1e-12 * one.cost,
        fmt::format("evaluate: cost {} over {} processes, {} on one", all.cost, world.size(), one.cost));
  check(all.accuracy == one.accuracy && all.samples == samples,
        fmt::format("evaluate: accuracy {} over {} processes, {} on one", all.accuracy, world.size(), one.accuracy));
}

}  // namespace

int main(int argc, char** argv) {
  dist::Environment mpi(argc, argv);
  dist::Comm& world = dist::Comm::world();
  try {
    if (!world.distributed()) {
      fmt::print(stderr, "run this program under mpirun with 2 or more processes\n");
      return 2;
    }
    sums(world);
    training(world);
    asked_for(world);
    fused(world);
    evaluate(world);
  } catch (const std::exception& e) {
    fmt::print(stderr, "process {}: {}\n", world.rank(), e.what());
    std::fflush(stderr);
    dist::Environment::abort(1);
  }
  std::vector<double> failed{double(failures)};
  world.sum(failed);
  if (world.rank() == 0) fmt::print("{} data-parallel checks failed over {} processes\n", failed[0], world.size());
  return failed[0] == 0 ? 0 : 1;
}
