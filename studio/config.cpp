#include "dagrad/studio/config.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/train/synthetic.hpp"

namespace dagrad::studio {

using nlohmann::json;

namespace {

[[noreturn]] void fail(std::string message) { throw ConfigError{std::move(message)}; }

std::string shown(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > 40) s = s.substr(0, 40) + "...";
  return s;
}

// A number from a JSON number or a numeric string ("1.2", "nan").
double number(const json& v, const std::string& key) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    std::size_t used = 0;
    try {
      const double d = std::stod(s, &used);
      if (used == s.size()) return d;
    } catch (const std::exception&) {
    }
  }
  fail(fmt::format("{}: '{}' is not a number", key, shown(v)));
}

double in_range(const json& v, const std::string& key, double lo, double hi, bool lo_open,
                bool hi_open) {
  const double d = number(v, key);
  const bool ok = std::isfinite(d) && (lo_open ? d > lo : d >= lo) && (hi_open ? d < hi : d <= hi);
  if (!ok)
    fail(fmt::format("{}: {} is not in {}{}, {}{}", key, shown(v), lo_open ? "(" : "[", lo, hi,
                     hi_open ? ")" : "]"));
  return d;
}

std::int64_t integer(const json& v, const std::string& key, std::int64_t lo, std::int64_t hi) {
  const double d = number(v, key);
  if (!(std::isfinite(d) && d == std::floor(d) && d >= double(lo) && d <= double(hi)))
    fail(fmt::format("{}: {} is not an integer in [{}, {}]", key, shown(v), lo, hi));
  return static_cast<std::int64_t>(d);
}

std::string word(const json& v, const std::string& key, const std::vector<std::string>& allowed) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    for (const std::string& a : allowed)
      if (s == a) return s;
  }
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
  fail(fmt::format("{}: '{}' is not one of {}", key, shown(v), list));
}

// A list from a JSON array or a comma-separated string ("2,4,1").
std::vector<json> items(const json& v, const std::string& key, std::size_t max_items) {
  std::vector<json> out;
  if (v.is_array()) {
    for (const json& e : v) out.push_back(e);
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    std::size_t at = 0;
    while (at <= s.size() && out.size() <= max_items) {
      const std::size_t comma = std::min(s.find(',', at), s.size());
      out.emplace_back(s.substr(at, comma - at));
      at = comma + 1;
    }
  } else if (v.is_number()) {
    out.push_back(v);
  } else {
    fail(fmt::format("{}: '{}' is not a list", key, shown(v)));
  }
  if (out.empty()) fail(fmt::format("{}: the list is empty", key));
  if (out.size() > max_items) fail(fmt::format("{}: more than {} entries", key, max_items));
  return out;
}

const std::set<std::string> known_keys{"data", "samples", "noise", "dev", "layers", "hidden",
                                       "output", "init", "lr", "optimizer", "beta1", "beta2",
                                       "beta", "epsilon", "weight_decay", "batch", "l2", "keep",
                                       "seed", "dtype"};

}  // namespace

json Config::to_json() const {
  return json{{"data", data},   {"samples", samples},     {"noise", noise},       {"dev", dev},
              {"layers", layers}, {"hidden", hidden},     {"output", output},     {"init", init},
              {"lr", lr},       {"optimizer", optimizer}, {"beta1", beta1},       {"beta2", beta2},
              {"epsilon", epsilon}, {"weight_decay", weight_decay},
              {"batch", batch},     {"l2", l2},             {"keep", keep},
              {"seed", seed},   {"dtype", dtype}};
}

models::ModelSpec Config::spec() const {
  models::ModelSpec s;
  s.layers = layers;
  s.hidden = models::parse_activation(hidden.front());
  if (hidden.size() > 1)
    for (const std::string& h : hidden) s.hidden_each.push_back(models::parse_activation(h));
  s.output = models::parse_output(output);
  s.l2 = l2;
  // One keep_prob of 1 is no dropout: leave the list empty, as the CLI does.
  if (!(keep.size() == 1 && keep[0] == 1.0) && layers.size() > 2) s.keep_prob = keep;
  s.seed = seed;
  return s;
}

train::OptimizerConfig Config::optimizer_config() const {
  train::OptimizerConfig o;
  o.kind = train::parse_optimizer(optimizer);
  o.learning_rate = lr;
  o.beta1 = beta1;
  o.beta2 = beta2;
  o.epsilon = epsilon;
  o.weight_decay = weight_decay;
  return o;
}

json optimizer_choices() {
  json list = json::array();
  for (const optim::Optimizer* o : optim::all_optimizers()) {
    json hyper = json::array();
    for (const optim::hyper::Named& h : optim::hyper::all)
      if (o->uses & h.bit) hyper.push_back(h.name);
    list.push_back({{"name", o->name}, {"hyper", hyper}});
  }
  return {{"optimizers", list}};
}

models::Init Config::init_kind() const { return models::parse_init(init); }

DType Config::dtype_kind() const { return dtype == "f32" ? DType::f32 : DType::f64; }

Config apply_config(const Config& base, const json& j, const std::optional<UploadInfo>& upload) {
  if (!j.is_object()) fail("the configuration is not a JSON object");
  for (const auto& [key, value] : j.items())
    if (!known_keys.count(key))
      fail(fmt::format("'{}' is not a configuration key (see docs/studio.md)", key.substr(0, 40)));
  Config c = base;
  const auto has = [&](const char* k) { return j.contains(k) && !j[k].is_null(); };
  if (has("data"))
    c.data = word(j["data"], "data", {"planar", "circles", "moons", "blobs", "line", "upload"});
  if (has("samples"))
    c.samples = integer(j["samples"], "samples", ConfigLimits::min_samples, ConfigLimits::max_samples);
  if (has("noise")) c.noise = in_range(j["noise"], "noise", 0, 2, false, false);
  if (has("dev")) c.dev = in_range(j["dev"], "dev", 0, 0.9, false, false);
  if (has("layers")) {
    c.layers.clear();
    for (const json& e : items(j["layers"], "layers", ConfigLimits::max_layers))
      c.layers.push_back(integer(e, fmt::format("layers: n[{}]", c.layers.size()), 1,
                                 ConfigLimits::max_units));
    if (c.layers.size() < 2) fail("layers: need at least n[0] and n[L] (2 entries)");
  }
  if (has("hidden")) {
    c.hidden.clear();
    for (const json& e : items(j["hidden"], "hidden", ConfigLimits::max_layers))
      c.hidden.push_back(word(e, "hidden", {"sigmoid", "tanh", "relu", "leaky_relu"}));
  }
  if (has("output")) c.output = word(j["output"], "output", {"sigmoid", "softmax", "linear"});
  if (has("init")) c.init = word(j["init"], "init", {"he", "xavier", "small", "zeros"});
  if (has("lr")) c.lr = in_range(j["lr"], "lr", 0, 10, true, false);
  if (has("optimizer"))
    c.optimizer = word(j["optimizer"], "optimizer", optim::optimizer_names());
  if (has("beta")) c.beta1 = in_range(j["beta"], "beta", 0, 1, false, true);
  if (has("beta1")) c.beta1 = in_range(j["beta1"], "beta1", 0, 1, false, true);
  if (has("beta2")) c.beta2 = in_range(j["beta2"], "beta2", 0, 1, false, true);
  if (has("epsilon")) c.epsilon = in_range(j["epsilon"], "epsilon", 0, 1, true, false);
  if (has("weight_decay")) c.weight_decay = in_range(j["weight_decay"], "weight_decay", 0, 10, false, false);
  if (has("batch")) c.batch = integer(j["batch"], "batch", 0, ConfigLimits::max_upload_samples);
  if (has("l2")) c.l2 = in_range(j["l2"], "l2", 0, 100, false, false);
  if (has("keep")) {
    c.keep.clear();
    for (const json& e : items(j["keep"], "keep", ConfigLimits::max_layers))
      c.keep.push_back(in_range(e, "keep", 0, 1, true, false));
  }
  if (has("seed")) c.seed = static_cast<std::uint64_t>(integer(j["seed"], "seed", 0, std::int64_t{1} << 53));
  if (has("dtype")) c.dtype = word(j["dtype"], "dtype", {"f32", "f64"});

  // ---- the fields together, and against the data -----------------------------
  const std::size_t hidden_layers = c.layers.size() - 2;
  if (c.hidden.size() != 1 && c.hidden.size() != hidden_layers)
    fail(fmt::format("hidden: {} activations for {} hidden layers (give one, or one per hidden layer)",
                     c.hidden.size(), hidden_layers));
  // One name for every layer when they agree, so a URL stays short.
  if (std::all_of(c.hidden.begin(), c.hidden.end(), [&](const std::string& h) { return h == c.hidden[0]; }))
    c.hidden.resize(1);
  if (c.keep.size() != 1 && c.keep.size() != hidden_layers)
    fail(fmt::format("keep: {} values for {} hidden layers (give one, or one per hidden layer)",
                     c.keep.size(), hidden_layers));
  std::int64_t params = 0;
  for (std::size_t l = 1; l < c.layers.size(); ++l) params += c.layers[l] * (c.layers[l - 1] + 1);
  if (params > ConfigLimits::max_params)
    fail(fmt::format("layers: {} parameters, more than the {} allowed", params, ConfigLimits::max_params));

  std::int64_t features = 2;
  int classes = c.data == "blobs" ? 3 : c.data == "line" ? 0 : 2;
  std::int64_t samples = c.samples;
  if (c.data == "upload") {
    if (!upload) fail("data: 'upload' needs a CSV posted to /api/data first");
    features = upload->features;
    classes = upload->classes;
    samples = upload->samples;
  }
  if (c.layers.front() != features)
    fail(fmt::format("layers: n[0] = {} but the data has {} features", c.layers.front(), features));
  const std::int64_t nL = c.layers.back();
  if (classes > 2 && !(c.output == "softmax" && nL == classes))
    fail(fmt::format("output: the data has {} classes: use softmax with n[L] = {} (layers ends in {})",
                     classes, classes, nL));
  if (classes == 0 && !(c.output == "linear" && nL == 1))
    fail(fmt::format("output: the data is a regression: use linear with n[L] = 1 ({} with n[L] = {})",
                     c.output, nL));
  if (classes == 2 && c.output == "softmax" && nL != 2)
    fail(fmt::format("layers: softmax over 2 classes needs n[L] = 2, not {}", nL));
  if (classes == 2 && c.output != "softmax" && nL != 1)
    fail(fmt::format("layers: a {} output over 2 classes needs n[L] = 1, not {}", c.output, nL));
  const auto train_samples = static_cast<std::int64_t>(std::llround(double(samples) * (1 - c.dev)));
  if (train_samples < 1) fail(fmt::format("dev: {} leaves no training samples", c.dev));
  if (c.batch > samples)
    fail(fmt::format("batch: {} is more than the {} samples (0 = full batch)", c.batch, samples));
  try {
    c.spec().validate();
    c.optimizer_config().validate();
  } catch (const InputError& e) {
    fail(e.what());
  }
  return c;
}

io::Dataset generate(const Config& c) {
  if (c.data == "planar" || c.data == "circles" || c.data == "moons") {
    // planar's noise is the notes' own (0.2 on the angle and the radius).
    io::Dataset d = train::make_dataset(c.data, c.samples, c.seed, c.data == "planar" ? -1.0 : c.noise);
    d.origin = c.data;
    return d;
  }
  // blobs: three Gaussian clusters of standard deviation 0.5 + noise at the
  // corners of a triangle; line: y = x1 - 0.5 x2 + noise randn over x ~ N(0, 1).
  const std::int64_t m = c.samples;
  std::vector<double> r(static_cast<std::size_t>(3 * m));
  models::fill_randn(r, c.seed, 7);
  io::Dataset d;
  d.origin = c.data;
  d.X = io::Matrix(Shape{2, m});
  d.Y = io::Matrix(Shape{1, m});
  const auto at = [&](std::int64_t i, int k) { return r[static_cast<std::size_t>(3 * i + k)]; };
  for (std::int64_t i = 0; i < m; ++i) {
    if (c.data == "blobs") {
      const std::int64_t k = i % 3;
      const double angle = 2.0944 * double(k) + 0.5236;  // 120 degrees apart
      const double s = 0.5 + c.noise;
      d.X(0, i) = 2.0 * std::cos(angle) + s * at(i, 0);
      d.X(1, i) = 2.0 * std::sin(angle) + s * at(i, 1);
      d.Y(0, i) = double(k);
    } else {
      d.X(0, i) = at(i, 0);
      d.X(1, i) = at(i, 1);
      d.Y(0, i) = d.X(0, i) - 0.5 * d.X(1, i) + c.noise * at(i, 2);
    }
  }
  return d;
}

int classes_of(const io::Dataset& d) {
  double top = 0;
  for (double y : d.Y.values) {
    if (!(y >= 0 && y == std::floor(y) && y < ConfigLimits::max_classes)) return 0;
    top = std::max(top, y);
  }
  return top >= 1 ? static_cast<int>(top) + 1 : 0;
}

}  // namespace dagrad::studio
