// The studio's configuration (docs/studio.md "The configuration"): the data
// set, the network and its training settings, read from JSON (the page's
// POST config, or its URL query as strings) and validated field by field.
// Every limit is here, so no request can make the engine allocate or compute
// without bound: samples, units, layers, parameters, an uploaded set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dagrad/io/dataset.hpp"
#include "dagrad/models/init.hpp"
#include "dagrad/models/mlp.hpp"
#include "dagrad/train/optimizer.hpp"

namespace dagrad::studio {

struct ConfigLimits {
  static constexpr std::int64_t min_samples = 10, max_samples = 5000;
  static constexpr std::size_t max_layers = 8;      // n[0] .. n[L]: L <= 7
  static constexpr std::int64_t max_units = 256;    // per layer, n[0] and n[L] included
  static constexpr std::int64_t max_params = 200000;  // weights and biases together
  static constexpr std::int64_t max_upload_samples = 20000;
  static constexpr std::int64_t max_upload_features = 256;
  static constexpr int max_classes = 10;            // more distinct integer labels: regression
};

// A configuration error: the field and what is wrong, one line.
struct ConfigError {
  std::string message;
};

struct Config {
  std::string data = "planar";  // planar circles moons blobs line upload
  std::int64_t samples = 400;
  double noise = 0.2;
  double dev = 0.2;
  std::vector<std::int64_t> layers{2, 4, 1};
  std::vector<std::string> hidden{"tanh"};  // one for every hidden layer, or one per hidden layer
  std::string output = "sigmoid";
  std::string init = "small";
  double lr = 1.2;
  std::string optimizer = "gd";
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double weight_decay = train::OptimizerConfig{}.weight_decay;  // AdamW's
  std::int64_t batch = 0;  // 0: full batch
  double l2 = 0.0;
  std::vector<double> keep{1.0};  // one value, or one per hidden layer
  std::uint64_t seed = 1;
  std::string dtype = "f64";

  nlohmann::json to_json() const;
  // The spec build_mlp takes, and the optimizer minimize takes.
  models::ModelSpec spec() const;
  train::OptimizerConfig optimizer_config() const;
  models::Init init_kind() const;
  DType dtype_kind() const;
};

// The optimizers the configuration takes, from their registry
// (optim/registry.hpp), each with the hyper-parameters it reads, by their
// configuration keys: {"optimizers": [{"name": "gd", "hyper": []}, {"name":
// "adamw", "hyper": ["beta1", "beta2", "epsilon", "weight_decay"]}, ...]}.
// The page builds its optimizer choice and fields from it (GET optimizers).
nlohmann::json optimizer_choices();

// What an uploaded CSV held.
struct UploadInfo {
  std::int64_t samples = 0, features = 0;
  int classes = 0;  // 0: regression (real labels)
};

// `base` with the keys of `j` applied (a JSON object; values may be strings,
// as a URL query gives them: "2,4,1", "1.2"), each checked against its range
// and the data it trains on (`upload` when data is "upload"). Throws
// ConfigError naming the first bad field.
Config apply_config(const Config& base, const nlohmann::json& j, const std::optional<UploadInfo>& upload);

// The generated data set of a configuration (2 features; labels 0/1, 0..2
// for blobs, real for line), seeded by config.seed.
io::Dataset generate(const Config& c);

// Classes of a data set's labels: K when every label is an integer in
// 0..K-1 with 2 <= K <= max_classes, else 0 (regression).
int classes_of(const io::Dataset& d);

}  // namespace dagrad::studio
