#include "cli/model_spec.hpp"

#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/flags.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/optim/registry.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::cli {

void add_runtime_options(CLI::App* cmd, SpecOptions& o) {
  cmd->add_option("--threads", o.threads, "threads for the matrix products and the large element-wise loops");
  cmd->add_option("--gemm", o.gemm,
                  "GEMM library: auto (a fixed rule of each product's shape and transposes: dagrad plan shows it), or pin one")
      ->check(CLI::IsMember({"auto", "openblas", "onednn"}));
}

void add_spec_options(CLI::App* cmd, SpecOptions& o, bool layers_required) {
  auto* layers = add_list_option(cmd, "--layers", o.layers, "layer sizes n[0],...,n[L], e.g. 12288,20,7,5,1");
  if (layers_required) layers->required();
  cmd->add_option("--hidden", o.hidden, "hidden activation")
      ->check(CLI::IsMember({"relu", "tanh", "sigmoid", "leaky_relu"}));
  cmd->add_option("--output", o.output, "output layer (linear: regression with the squared error)")
      ->check(CLI::IsMember({"sigmoid", "softmax", "linear"}));
  cmd->add_option("--l2", o.l2, "L2 regularization lambda (0: none)");
  add_list_option(cmd, "--keep-prob", o.keep_prob,
                  "dropout keep probability: one value for all hidden layers or one per layer");
  cmd->add_option("--dtype", o.dtype, "element type")->check(CLI::IsMember({"f32", "f64"}));
  cmd->add_option("--seed", o.seed, "seed for initialization, data and dropout");
  add_runtime_options(cmd, o);
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
  ops::set_gemm_mode(ops::parse_gemm_mode(o.gemm));
}

double feature_scale(const models::Model& model, bool no_scale, double scale) {
  if (no_scale) return 1;
  return scale > 0 ? scale : model.data_scale;
}

bool given(const CLI::App* cmd, const std::string& flag) {
  const CLI::Option* o = cmd ? cmd->get_option_no_throw(flag) : nullptr;
  return o != nullptr && o->count() > 0;
}

void add_model_source(CLI::App* cmd, ModelSource& s, const char* graph_help,
                      const char* model_flag, const char* model_help) {
  s.cmd = cmd;
  add_spec_options(cmd, s.spec, false);
  if (graph_help) cmd->add_option("--graph", s.graph, graph_help);
  if (model_flag) cmd->add_option(model_flag, s.model, model_help);
}

void add_model_file(CLI::App* cmd, ModelSource& s, const char* model_flag, const char* model_help,
                    bool runtime) {
  s.cmd = cmd;
  if (runtime) add_runtime_options(cmd, s.spec);
  cmd->add_option(model_flag, s.model, model_help)->required();
}

namespace {

// A spec flag given beside a file must say what the file says.
void check_flags(const ModelSource& s, const models::Model& m, const std::string& file) {
  auto refuse = [&](const std::string& flag, const std::string& given_value,
                    const std::string& file_value) {
    throw InputError(fmt::format("{} {} does not match {}, which holds {} {}", flag, given_value,
                                 file, flag, file_value));
  };
  if (given(s.cmd, "--dtype") && s.spec.dtype != dtype_name(m.dtype()))
    refuse("--dtype", s.spec.dtype, std::string(dtype_name(m.dtype())));
  const char* spec_flags[] = {"--layers", "--hidden", "--output", "--l2", "--keep-prob"};
  if (!m.spec) {
    for (const char* f : spec_flags)
      if (given(s.cmd, f))
        throw InputError(fmt::format("{} describes an MLP spec, but {} holds a graph built in C++; "
                                     "leave it out", f, file));
    return;
  }
  const models::ModelSpec& fs = *m.spec;
  if (given(s.cmd, "--layers") && s.spec.layers != fs.layers)
    refuse("--layers", fmt::format("{}", fmt::join(s.spec.layers, ",")),
           fmt::format("{}", fmt::join(fs.layers, ",")));
  if (given(s.cmd, "--hidden") && s.spec.hidden != models::name_of(fs.hidden))
    refuse("--hidden", s.spec.hidden, std::string(models::name_of(fs.hidden)));
  if (given(s.cmd, "--output") && s.spec.output != models::name_of(fs.output))
    refuse("--output", s.spec.output, std::string(models::name_of(fs.output)));
  if (given(s.cmd, "--l2") && s.spec.l2 != fs.l2)
    refuse("--l2", fmt::format("{:g}", s.spec.l2), fmt::format("{:g}", fs.l2));
  if (given(s.cmd, "--keep-prob") && s.spec.keep_prob != fs.keep_prob)
    refuse("--keep-prob", fmt::format("{}", fmt::join(s.spec.keep_prob, ",")),
           fmt::format("{}", fmt::join(fs.keep_prob, ",")));
  if (given(s.cmd, "--seed") && s.spec.seed != m.seed)
    refuse("--seed", fmt::format("{}", s.spec.seed), fmt::format("{}", m.seed));
}

}  // namespace

models::Model make_model(const ModelSource& s) {
  // With a file, --layers is one of the flags checked against it.
  const int files = !s.graph.empty() + !s.model.empty();
  const int sources = files > 0 ? files : !s.spec.layers.empty();
  if (sources != 1) {
    std::vector<std::string> ways{"--layers n0,n1,..."};
    if (s.cmd && s.cmd->get_option_no_throw("--graph")) ways.push_back("--graph FILE.json");
    for (const char* f : {"--model", "--resume"})
      if (s.cmd && s.cmd->get_option_no_throw(f)) ways.push_back(fmt::format("{} FILE.dagrad", f));
    throw InputError(fmt::format("give the model {}as {}", sources > 1 ? "only once, " : "",
                                 fmt::join(ways, " or ")));
  }
  if (!s.model.empty()) {
    models::Model m = models::load_model(s.model);
    check_flags(s, m, s.model);
    return m;
  }
  if (!s.graph.empty()) {
    models::Model m = models::load_graph_model(s.graph);
    check_flags(s, m, s.graph);
    if (given(s.cmd, "--seed")) m.seed = s.spec.seed;
    return m;
  }
  return models::build_mlp(to_model_spec(s.spec), to_dtype(s.spec));
}

void add_optimizer_flags(CLI::App* cmd, OptimizerFlags& o, const std::string& kind_help) {
  cmd->add_option("--optimizer", o.kind, kind_help + optim::optimizer_choices())
      ->check(CLI::IsMember(optim::optimizer_names()));
  cmd->add_option("--lr", o.lr, "learning rate alpha");
  cmd->add_option("--beta1", o.beta1, "first moment's beta1 (momentum, Adam)");
  cmd->add_option("--beta2", o.beta2, "second moment's beta2");
  cmd->add_option("--epsilon", o.epsilon, "epsilon of the second moment's root");
  cmd->add_option("--decay-rate", o.decay_rate, "lr = lr0 / (1 + decay_rate * epoch)");
  cmd->add_option("--weight-decay", o.weight_decay,
                  "AdamW's decoupled weight decay lambda_w: W = (1 - lr lambda_w) W - ... (default 0.01, as torch's)");
}

std::optional<train::OptimizerConfig> optimizer_of(const OptimizerFlags& o) {
  if (o.kind.empty()) return std::nullopt;
  train::OptimizerConfig c{train::parse_optimizer(o.kind), o.lr, o.beta1, o.beta2, o.epsilon,
                           o.decay_rate, o.weight_decay};
  c.validate();
  return c;
}

viz::Derivation derivation_for(const ModelSource& s,
                               const std::optional<train::OptimizerConfig>& optimizer) {
  // A graph file is shown as it is, backward nodes included when it has them.
  if (!s.graph.empty() && s.model.empty() && !optimizer) {
    if (!s.spec.layers.empty())
      throw InputError("give the model either as --layers ... or as --graph FILE, not both");
    return viz::derivation_of(load(s.graph));
  }
  const models::Model m = make_model(s);
  return viz::derivation_of(m, optimizer ? &*optimizer : nullptr);
}

}  // namespace dagrad::cli
