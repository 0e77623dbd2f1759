// The model spec every subcommand takes. The flag names are a contract:
//   --layers 12288,20,7,5,1 --hidden relu|tanh|sigmoid|leaky_relu
//   --output sigmoid|softmax [--l2 LAMBDA] [--keep-prob P[,P...]]
//   --dtype f32|f64 --threads N --seed S --gemm auto|openblas|onednn
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "dagrad/graph/types.hpp"
#include "dagrad/models/mlp.hpp"

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
models::ModelSpec to_model_spec(const SpecOptions& o);  // InputError on bad values
DType to_dtype(const SpecOptions& o);
// Applies --threads to OpenBLAS, oneDNN and the large element-wise loops (one
// libgomp pool), and --gemm: the library each GEMM shape runs on.
void apply_threads(const SpecOptions& o);

}  // namespace dagrad::cli
