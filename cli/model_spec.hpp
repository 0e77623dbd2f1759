// The model spec every subcommand takes. The flag names are a contract:
//   --layers 12288,20,7,5,1 --hidden relu|tanh|sigmoid|leaky_relu
//   --output sigmoid|softmax|linear [--l2 LAMBDA] [--keep-prob P[,P...]]
//   --dtype f32|f64 --threads N --seed S --gemm auto|openblas|onednn
// and where a subcommand gets its model (ModelSource): the spec, a graph
// file saved from C++ (--graph model.json) or a model file (--model
// FILE.dagrad, and train's --resume).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "dagrad/graph/types.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/models/model.hpp"
#include "dagrad/viz/notation.hpp"

namespace dagrad::cli {

struct SpecOptions {
  std::vector<std::int64_t> layers;
  std::string hidden = "relu";
  std::string output = "sigmoid";
  double l2 = 0.0;
  std::vector<double> keep_prob;
  std::string dtype = "f64";
  int threads = 1;
  std::uint64_t seed = 1;
  std::string gemm = "auto";
};

// Adds the spec flags to `cmd`. With layers_required, --layers is mandatory
// (commands that can also take --graph make it optional).
void add_spec_options(CLI::App* cmd, SpecOptions& o, bool layers_required = true);
// Adds --threads and --gemm alone: how a command runs, whatever its model.
void add_runtime_options(CLI::App* cmd, SpecOptions& o);
models::ModelSpec to_model_spec(const SpecOptions& o);  // InputError on bad values
DType to_dtype(const SpecOptions& o);
// Applies --threads to OpenBLAS, oneDNN and the large element-wise loops (one
// libgomp pool), and --gemm: the library each GEMM shape runs on.
void apply_threads(const SpecOptions& o);

// The model a subcommand works on.
struct ModelSource {
  SpecOptions spec;
  std::string graph;  // --graph FILE.json
  std::string model;  // --model FILE.dagrad (train: --resume)
  CLI::App* cmd = nullptr;
};

// Adds the spec flags, and --graph and --model (named `model_flag`) when
// their help is given.
void add_model_source(CLI::App* cmd, ModelSource& s, const char* graph_help,
                      const char* model_flag, const char* model_help);
// Adds only the model file flag (required), and with `runtime` --threads and
// --gemm: for the commands that take a saved model and nothing that would
// describe another (predict, export), so their --help lists no spec flag.
void add_model_file(CLI::App* cmd, ModelSource& s, const char* model_flag, const char* model_help,
                    bool runtime);
// Builds the spec's MLP, or reads the graph or model file. Exactly one of
// them must be given. With a file, a spec flag that was given must agree
// with what the file holds (--dtype, and for a model built from a spec
// --layers, --hidden, --output, --l2, --keep-prob and --seed), else an
// InputError names the flag and both values: exit 2.
models::Model make_model(const ModelSource& s);
// Whether a flag of `cmd` was given on the command line.
bool given(const CLI::App* cmd, const std::string& flag);
// The divisor of the features that predict and eval read: 1 for
// --no-scale, D for --scale D, and with neither the one the model was
// trained with (models::Model::data_scale; 0 there is the default rule:
// uint8 images / 255, other data as read).
double feature_scale(const models::Model& model, bool no_scale, double scale);

// --optimizer and its settings, for the subcommands that show the update.
struct OptimizerFlags {
  std::string kind;  // empty: no optimizer
  double lr = 0.0075, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, decay_rate = 0.0;
  double weight_decay = 0.01;
};
// --optimizer (described by `kind_help`, then the choices), --lr, --beta1,
// --beta2, --epsilon, --decay-rate, --weight-decay.
void add_optimizer_flags(CLI::App* cmd, OptimizerFlags& o, const std::string& kind_help);
std::optional<train::OptimizerConfig> optimizer_of(const OptimizerFlags& o);

// The model's derivation for dot and explain: its gradients, and the
// optimizer's update nodes when the model has an optimizer or one is given.
viz::Derivation derivation_for(const ModelSource& s,
                               const std::optional<train::OptimizerConfig>& optimizer);

}  // namespace dagrad::cli
