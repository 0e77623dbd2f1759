#include "cli/model_spec.hpp"

#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::cli {

void add_spec_options(CLI::App* cmd, SpecOptions& o, bool layers_required) {
  auto* layers = cmd->add_option("--layers", o.layers, "layer sizes n[0],...,n[L], e.g. 12288,20,7,5,1")
                     ->delimiter(',');
  if (layers_required) layers->required();
  cmd->add_option("--hidden", o.hidden, "hidden activation")
      ->check(CLI::IsMember({"relu", "tanh", "sigmoid", "leaky_relu"}));
  cmd->add_option("--output", o.output, "output layer")->check(CLI::IsMember({"sigmoid", "softmax"}));
  cmd->add_option("--l2", o.l2, "L2 regularization lambda (0: none)");
  cmd->add_option("--keep-prob", o.keep_prob,
                  "dropout keep probability: one value for all hidden layers or one per layer")
      ->delimiter(',');
  cmd->add_option("--dtype", o.dtype, "element type")->check(CLI::IsMember({"f32", "f64"}));
  cmd->add_option("--threads", o.threads, "threads for the matrix products and the large element-wise loops");
  cmd->add_option("--seed", o.seed, "seed for initialization, data and dropout");
}

models::ModelSpec to_model_spec(const SpecOptions& o) {
  models::ModelSpec spec;
  spec.layers = o.layers;
  spec.hidden = models::parse_activation(o.hidden);
  spec.output = models::parse_output(o.output);
  spec.l2 = o.l2;
  spec.keep_prob = o.keep_prob;
  spec.seed = o.seed;
  spec.validate();
  return spec;
}

DType to_dtype(const SpecOptions& o) { return o.dtype == "f32" ? DType::f32 : DType::f64; }

namespace {

// Starts threads - 1 threads that all stay alive until the last one is up,
// as the OpenMP pool's will: a count the system cannot create (ulimit -u,
// threads-max, memory for the stacks) is an input error here, not an abort
// inside libgomp later.
void check_threads_can_start(int threads) {
  std::mutex m;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> pool;
  std::string failure;
  for (int k = 1; k < threads && failure.empty(); ++k) {
    try {
      pool.emplace_back([&] {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return go; });
      });
    } catch (const std::system_error& e) {
      failure = fmt::format("--threads {}: the system could not start thread {} ({})", threads, k + 1,
                            e.code().message());
    }
  }
  {
    const std::lock_guard lock(m);
    go = true;
  }
  cv.notify_all();
  for (std::thread& t : pool) t.join();
  if (!failure.empty()) throw InputError(failure);
}

}  // namespace

void apply_threads(const SpecOptions& o) {
  if (o.threads < 1) throw InputError(fmt::format("--threads {} must be at least 1", o.threads));
  check_threads_can_start(o.threads);
  runtime::set_threads(o.threads);
}

}  // namespace dagrad::cli
