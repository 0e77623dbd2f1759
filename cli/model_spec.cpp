#include "cli/model_spec.hpp"

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/gemm_planner.hpp"
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
  cmd->add_option("--gemm", o.gemm,
                  "GEMM library: auto (time OpenBLAS and oneDNN per shape, keep the faster), or pin one")
      ->check(CLI::IsMember({"auto", "openblas", "onednn"}));
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

void apply_threads(const SpecOptions& o) {
  if (o.threads < 1) throw InputError(fmt::format("--threads {} must be at least 1", o.threads));
  runtime::set_threads(o.threads);
  ops::set_gemm_mode(ops::parse_gemm_mode(o.gemm));
}

}  // namespace dagrad::cli
