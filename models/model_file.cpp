#include "dagrad/models/model_file.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/checked_zip.hpp"
#include "dagrad/io/npy.hpp"
#include "dagrad/io/read_file.hpp"
#include "dagrad/models/validate.hpp"

namespace dagrad::models {

namespace {

using Json = nlohmann::ordered_json;
constexpr std::string_view tag = "dagrad-model";
constexpr std::string_view norm_mu = "norm_mu", norm_sigma = "norm_sigma";

Json names(const std::vector<Expr>& es) {
  Json out = Json::array();
  for (Expr e : es) out.push_back(e.name());
  return out;
}

Json spec_json(const ModelSpec& s) {
  Json j;
  j["layers"] = s.layers;
  j["hidden"] = name_of(s.hidden);
  if (!s.hidden_each.empty()) {
    j["hidden_each"] = Json::array();
    for (Activation a : s.hidden_each) j["hidden_each"].push_back(name_of(a));
  }
  j["output"] = name_of(s.output);
  j["l2"] = s.l2;
  j["keep_prob"] = s.keep_prob;
  j["leaky_slope"] = s.leaky_slope;
  j["seed"] = s.seed;
  return j;
}

Json optimizer_json(const optim::OptimizerConfig& c) {
  Json j;
  j["kind"] = optim::name_of(c.kind);
  j["learning_rate"] = c.learning_rate;
  j["beta1"] = c.beta1;
  j["beta2"] = c.beta2;
  j["epsilon"] = c.epsilon;
  j["decay_rate"] = c.decay_rate;
  if (optim::optimizer(c.kind).uses & optim::hyper::weight_decay) j["weight_decay"] = c.weight_decay;
  return j;
}

// Every output must be named: the file refers to nodes by name.
void require_names(const Model& m) {
  std::vector<Expr> all = m.outputs();
  all.push_back(m.cost());
  all.push_back(m.eval_cost());
  all.push_back(m.features());
  if (m.labels().valid()) all.push_back(m.labels());
  for (Expr e : all)
    if (e.name().empty())
      throw GraphError(fmt::format("save_model: node {} needs a name (Expr::named) to be saved",
                                   m.graph().describe(e.id)));
}

Json meta_json(const Model& m) {
  require_names(m);
  Json j;
  j["format"] = tag;
  j["version"] = model_format_version;
  j["dtype"] = dtype_name(m.dtype());
  j["cost"] = m.cost().name();
  j["eval_cost"] = m.eval_cost().name();
  j["outputs"] = names(m.outputs());
  j["params"] = names(m.params());
  j["features"] = m.features().name();
  if (m.labels().valid()) j["labels"] = m.labels().name();
  j["init"] = name_of(m.default_init());
  Json inits = Json::object();
  for (const auto& [name, init] : init_overrides(m)) inits[name] = name_of(init);
  j["inits"] = inits;
  if (m.minimized()) j["optimizer"] = optimizer_json(m.optimizer());
  j["steps"] = m.steps;
  j["epochs"] = m.epochs;
  j["batch_size"] = m.batch_size;
  j["seed"] = m.seed;
  j["dev_ratio"] = m.dev_ratio;
  j["data_scale"] = m.data_scale;
  j["normalization"] = m.normalization.has_value();
  if (m.spec) j["spec"] = spec_json(*m.spec);
  j["values"] = m.value_names();
  return j;
}

io::ZipEntry npy_entry(std::string_view name, const io::Matrix& values, DType dtype) {
  return {fmt::format("{}.npy", name), io::write_npy_bytes(io::to_array(values, dtype))};
}

// ---- reading --------------------------------------------------------------------

struct Reader {
  std::string origin;  // "flower.dagrad: model.json"
  const Json& j;

  [[noreturn]] void bad(std::string_view field, std::string_view expected) const {
    throw InputError(fmt::format("{}: field '{}' must be {}", origin, field, expected));
  }
  const Json& at(const Json& obj, const char* key, std::string_view path) const {
    if (!obj.is_object() || !obj.contains(key)) bad(path, "present");
    return obj.at(key);
  }
  std::string str(const Json& obj, const char* key) const {
    const Json& v = at(obj, key, key);
    if (!v.is_string()) bad(key, "a string");
    return v.get<std::string>();
  }
  double num(const Json& obj, const char* key, std::string_view path) const {
    const Json& v = at(obj, key, path);
    if (!v.is_number() || !std::isfinite(v.get<double>())) bad(path, "a finite number");
    return v.get<double>();
  }
  std::int64_t count(const Json& obj, const char* key) const {
    const Json& v = at(obj, key, key);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0) bad(key, "an integer >= 0");
    return v.get<std::int64_t>();
  }
  std::vector<std::string> strings(const Json& obj, const char* key) const {
    const Json& v = at(obj, key, key);
    if (!v.is_array()) bad(key, "an array of names");
    std::vector<std::string> out;
    for (const Json& s : v) {
      if (!s.is_string()) bad(key, "an array of names");
      out.push_back(s.get<std::string>());
    }
    return out;
  }
};

Expr node_named(Graph& g, const Reader& r, const std::string& name, const char* field) {
  const auto id = g.find(name);
  if (!id)
    throw InputError(fmt::format("{}: field '{}' names '{}', which is no node of the graph",
                                 r.origin, field, name));
  return g.expr(*id);
}

ModelSpec read_spec(const Reader& r, const Json& s) {
  ModelSpec spec;
  const Json& layers = r.at(s, "layers", "spec.layers");
  if (!layers.is_array()) r.bad("spec.layers", "an array of sizes");
  for (const Json& n : layers) {
    if (!n.is_number_integer()) r.bad("spec.layers", "an array of sizes");
    spec.layers.push_back(n.get<std::int64_t>());
  }
  spec.hidden = parse_activation(r.str(s, "hidden"));
  if (s.contains("hidden_each")) {  // absent: `hidden` in every hidden layer
    const Json& each = s.at("hidden_each");
    if (!each.is_array()) r.bad("spec.hidden_each", "an array of activations");
    for (const Json& a : each) {
      if (!a.is_string()) r.bad("spec.hidden_each", "an array of activations");
      spec.hidden_each.push_back(parse_activation(a.get<std::string>()));
    }
  }
  spec.output = parse_output(r.str(s, "output"));
  spec.l2 = r.num(s, "l2", "spec.l2");
  const Json& kp = r.at(s, "keep_prob", "spec.keep_prob");
  if (!kp.is_array()) r.bad("spec.keep_prob", "an array of numbers");
  for (const Json& p : kp) {
    if (!p.is_number()) r.bad("spec.keep_prob", "an array of numbers");
    spec.keep_prob.push_back(p.get<double>());
  }
  spec.leaky_slope = r.num(s, "leaky_slope", "spec.leaky_slope");
  const Json& seed = r.at(s, "seed", "spec.seed");
  if (!seed.is_number_unsigned()) r.bad("spec.seed", "an unsigned integer");
  spec.seed = seed.get<std::uint64_t>();
  spec.validate();
  return spec;
}

optim::OptimizerConfig read_optimizer(const Reader& r, const Json& o) {
  optim::OptimizerConfig c;
  c.kind = optim::parse_optimizer(r.str(o, "kind"));
  c.learning_rate = r.num(o, "learning_rate", "optimizer.learning_rate");
  c.beta1 = r.num(o, "beta1", "optimizer.beta1");
  c.beta2 = r.num(o, "beta2", "optimizer.beta2");
  c.epsilon = r.num(o, "epsilon", "optimizer.epsilon");
  c.decay_rate = r.num(o, "decay_rate", "optimizer.decay_rate");
  if (o.contains("weight_decay")) c.weight_decay = r.num(o, "weight_decay", "optimizer.weight_decay");
  c.validate();
  return c;
}

const io::ZipEntry& entry(const io::ZipArchive& a, std::string_view name, std::string_view origin) {
  for (const io::ZipEntry& e : a.entries)
    if (e.name == name) return e;
  throw InputError(fmt::format("{}: the archive has no entry '{}'", origin, name));
}

std::string_view text_of(const io::ZipEntry& e) {
  return {reinterpret_cast<const char*>(e.data.data()), e.data.size()};
}

io::Matrix matrix_entry(const io::ZipArchive& a, std::string_view name, std::string_view origin) {
  const std::string file = fmt::format("{}.npy", name);
  const std::string where = fmt::format("{} (entry '{}')", origin, file);
  io::Matrix m = io::to_matrix(io::read_npy_bytes(entry(a, file, origin).data, where), where);
  for (std::size_t i = 0; i < m.values.size(); ++i)
    if (!std::isfinite(m.values[i]))
      throw InputError(fmt::format("{}: {} holds {} at ({}, {})", origin, name, m.values[i],
                                   static_cast<std::int64_t>(i) / m.cols(),
                                   static_cast<std::int64_t>(i) % m.cols()));
  return m;
}

void read_normalization(Model& model, const io::ZipArchive& a, std::string_view origin) {
  const io::Matrix mu = matrix_entry(a, norm_mu, origin);
  const io::Matrix sigma = matrix_entry(a, norm_sigma, origin);
  const std::int64_t n = model.features().shape().rows;
  if (mu.shape != Shape{n, 1} || sigma.shape != Shape{n, 1})
    throw InputError(fmt::format("{}: norm_mu and norm_sigma must be ({}x1), one per feature",
                                 origin, n));
  for (double s : sigma.values)
    if (!(s > 0.0)) throw InputError(fmt::format("{}: norm_sigma holds {}, not positive", origin, s));
  model.normalization = Normalizer{mu.values, sigma.values};
}

}  // namespace

std::optional<std::string> non_finite_value(const Model& model) {
  for (const std::string& name : model.value_names()) {
    const runtime::Tensor& t = model.value(name);
    for (std::int64_t i = 0; i < t.size(); ++i)
      if (!std::isfinite(t.get(i))) return fmt::format("{} holds {} at element {}", name, t.get(i), i);
  }
  return std::nullopt;
}

std::vector<std::uint8_t> model_bytes(const Model& model) {
  check_reserved_names(model, "save_model");
  // load_model refuses NaN and Inf: a file that holds them is never written.
  if (const auto bad = non_finite_value(model))
    throw NumericError(fmt::format("save_model: {}; a model file holds finite values only", *bad));
  io::ZipArchive a;
  const std::string meta = meta_json(model).dump(1) + "\n";
  a.entries.push_back({"model.json", {meta.begin(), meta.end()}});
  GraphRoles roles{model.cost().name(), {}, {}};
  for (Expr o : model.outputs()) roles.outputs.push_back(o.name());
  for (Expr p : model.params()) roles.params.push_back(p.name());
  const std::string graph = to_json(model.graph(), roles);
  a.entries.push_back({"graph.json", {graph.begin(), graph.end()}});
  for (const std::string& name : model.value_names())
    a.entries.push_back(npy_entry(name, model.value(name).to_matrix(), model.dtype()));
  if (model.normalization) {
    for (const auto& [name, values] : model.normalization->to_named())
      a.entries.push_back(npy_entry(name, values, DType::f64));
  }
  return io::write_checked_zip(std::move(a), tag, model_format_version);
}

void save_model(const Model& model, const std::filesystem::path& path) {
  io::AtomicFile file(path);  // an unwritable directory fails before any work
  file.write(model_bytes(model));
  file.commit();
}

Model model_from_bytes(std::span<const std::uint8_t> bytes, std::string_view origin) try {
  // A data file or anything else that is not a zip archive (whose first
  // bytes are "PK"): say what the file is not, before any zip detail.
  if (bytes.size() < 2 || bytes[0] != 'P' || bytes[1] != 'K')
    throw InputError(fmt::format("{}: not a dagrad model file (one is a zip archive written by dagrad train --save "
                                 "FILE.dagrad; this file starts with \"{}\")", origin,
                                 excerpt(std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                                          std::min<std::size_t>(bytes.size(), 24)))));
  const io::ZipArchive a = io::read_checked_zip(bytes, origin, tag, model_format_version, true);
  const Json meta = [&] {
    try {
      return Json::parse(text_of(entry(a, "model.json", origin)));
    } catch (const Json::parse_error& e) {
      throw InputError(fmt::format("{}: model.json is not valid JSON: {}", origin, without_library_tags(e.what())));
    }
  }();
  const Reader r{fmt::format("{}: model.json", origin), meta};
  if (!meta.is_object() || !meta.contains("format") || meta.at("format") != tag)
    throw InputError(fmt::format("{}: not a dagrad model (expected \"format\": \"{}\")", r.origin, tag));
  if (meta.at("version") != model_format_version)
    throw InputError(fmt::format("{}: model format version {} is not supported (this dagrad reads "
                                 "version {})", r.origin, meta.at("version").dump(),
                                 model_format_version));
  GraphFile gf = graph_file_from_json(text_of(entry(a, "graph.json", origin)),
                                      fmt::format("{}: graph.json", origin));
  if (dtype_name(gf.graph.dtype()) != r.str(meta, "dtype"))
    throw InputError(fmt::format("{}: dtype {} but the graph is {}", r.origin, r.str(meta, "dtype"),
                                 dtype_name(gf.graph.dtype())));
  Model m(std::move(gf.graph));
  Graph& g = m.graph();
  // A role the model refuses (a cost that is not 1x1, a parameter that is
  // not a param node) is the file's error, named by its field.
  auto role = [&](const char* field, const auto& set) {
    try {
      set();
    } catch (const Error& e) {
      throw InputError(fmt::format("{}: field '{}': {}", r.origin, field, e.what()));
    }
  };
  role("cost", [&] { m.set_cost(node_named(g, r, r.str(meta, "cost"), "cost")); });
  role("eval_cost", [&] { m.set_eval_cost(node_named(g, r, r.str(meta, "eval_cost"), "eval_cost")); });
  std::vector<Expr> outs, params;
  for (const std::string& n : r.strings(meta, "outputs")) outs.push_back(node_named(g, r, n, "outputs"));
  for (const std::string& n : r.strings(meta, "params")) params.push_back(node_named(g, r, n, "params"));
  role("outputs", [&] { m.set_outputs(outs); });
  role("params", [&] { m.set_params(params); });
  m.set_features(node_named(g, r, r.str(meta, "features"), "features"));
  if (meta.contains("labels")) m.set_labels(node_named(g, r, r.str(meta, "labels"), "labels"));
  m.set_init(parse_init(r.str(meta, "init")));
  const Json& inits = r.at(meta, "inits", "inits");
  if (!inits.is_object()) r.bad("inits", "an object of parameter: initializer");
  for (const auto& [name, init] : inits.items()) {
    if (!init.is_string()) r.bad("inits", "an object of parameter: initializer");
    m.set_init(name, parse_init(init.get<std::string>()));
  }
  m.steps = r.count(meta, "steps");
  m.epochs = r.count(meta, "epochs");
  m.batch_size = r.count(meta, "batch_size");
  const Json& seed = r.at(meta, "seed", "seed");
  if (!seed.is_number_unsigned()) r.bad("seed", "an unsigned integer");
  m.seed = seed.get<std::uint64_t>();
  if (meta.contains("dev_ratio")) {  // absent in files written before it was stored: none
    m.dev_ratio = r.num(meta, "dev_ratio", "dev_ratio");
    if (!(m.dev_ratio >= 0 && m.dev_ratio < 1)) r.bad("dev_ratio", "a number in [0, 1)");
  }
  if (meta.contains("data_scale")) {  // absent in files written before it was stored: the default
    m.data_scale = r.num(meta, "data_scale", "data_scale");
    if (!(m.data_scale >= 0)) r.bad("data_scale", "a number >= 0 (0: uint8 images / 255, D: every feature / D)");
  }
  if (meta.contains("spec")) m.spec = read_spec(r, meta.at("spec"));
  if (meta.contains("optimizer")) {
    const optim::OptimizerConfig config = read_optimizer(r, meta.at("optimizer"));
    try {
      m.adopt_updates(config, optim::find_updates(g, params));
    } catch (const GraphError& e) {  // graph.json lacks what model.json's optimizer needs
      throw InputError(fmt::format("{}: field 'optimizer' ({}): {}", r.origin, optim::name_of(config.kind), e.what()));
    }
  }

  // Exactly the arrays model.json lists, each a parameter or state leaf.
  std::set<std::string> listed;
  for (const std::string& name : r.strings(meta, "values")) {
    listed.insert(name);
    m.set_value(name, runtime::Tensor::from_matrix(matrix_entry(a, name, origin), m.dtype()));
  }
  if (m.minimized())
    for (Expr s : m.updates().state)
      if (!m.has_value(s.name()))
        throw InputError(fmt::format("{}: the optimizer state {} has no value", origin, s.name()));
  validate_model(m, r.origin);  // what model.json says, against the graph and the values
  const bool normalized = [&] {
    const Json& v = r.at(meta, "normalization", "normalization");
    if (!v.is_boolean()) r.bad("normalization", "true or false");
    return v.get<bool>();
  }();
  if (normalized) read_normalization(m, a, origin);
  for (const io::ZipEntry& e : a.entries) {
    if (e.name == "model.json" || e.name == "graph.json") continue;
    const std::string name = e.name.ends_with(".npy") ? e.name.substr(0, e.name.size() - 4) : e.name;
    const bool norm = normalized && (name == norm_mu || name == norm_sigma);
    if (!norm && !listed.contains(name))
      throw InputError(fmt::format("{}: entry '{}' is not listed in model.json", origin, e.name));
  }
  return m;
} catch (const nlohmann::json::exception& e) {
  throw InputError(fmt::format("{}: malformed model file: {}", origin, without_library_tags(e.what())));
}

Model load_model(const std::filesystem::path& path) {
  return model_from_bytes(io::read_file_bytes(path), path.string());
}

namespace {

// The prediction when the file names none: A<L> with the largest L, else the
// activation of the logits the cost reads (sigmoid(Z) for the fused binary
// cross-entropy), else the predictions a cost compares with labels.
std::optional<Expr> guess_output(Graph& g, Expr J) {
  std::optional<Expr> best;
  std::int64_t best_l = -1;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (n.role != Role::forward || n.name.size() < 2 || n.name[0] != 'A') continue;
    // A layer number past an int64 (A99999999999999999999) names no layer.
    std::int64_t l = 0;
    const char* end = n.name.data() + n.name.size();
    const auto [at, ec] = std::from_chars(n.name.data() + 1, end, l);
    if (ec != std::errc() || at != end) continue;
    if (l > best_l) best_l = l, best = g.expr(id);
  }
  if (best) return best;
  Expr c = J;
  if (c.node().op == OpKind::add) c = g.expr(c.node().inputs[0]);  // cost + L2
  const NodeId x = c.node().inputs.empty() ? c.id : c.node().inputs[0];
  switch (c.node().op) {
    case OpKind::bce_logits: return g.add(OpKind::sigmoid, {x});
    case OpKind::softmax_ce: return g.add(OpKind::softmax, {x});
    case OpKind::bce: case OpKind::categorical_ce: case OpKind::mse: return g.expr(x);
    default: return std::nullopt;
  }
}

}  // namespace

Model model_from_graph(GraphFile file, std::string_view origin) {
  for (NodeId id = 0; id < file.graph.size(); ++id)
    if (file.graph.node(id).op == OpKind::assign)
      throw InputError(fmt::format("{}: the graph already holds an optimizer's updates; a trained "
                                   "model is saved and resumed as a model file (.dagrad)", origin));
  Model m(std::move(file.graph));
  Graph& g = m.graph();
  auto named = [&](const std::string& name, const char* what) {
    const auto id = g.find(name);
    if (!id) throw InputError(fmt::format("{}: the graph has no node named '{}' ({})", origin, name, what));
    return g.expr(*id);
  };
  const Expr J = named(file.roles.cost.empty() ? "J" : file.roles.cost, "the cost");
  m.set_cost(J);
  if (auto cost = g.find("cost"); cost && file.roles.cost.empty() && g.node(*cost).shape.is_scalar())
    m.set_eval_cost(g.expr(*cost));  // the MLP's cross-entropy beside J = cost + L2
  std::vector<Expr> outs;
  for (const std::string& n : file.roles.outputs) outs.push_back(named(n, "an output"));
  if (outs.empty()) {
    const auto guess = guess_output(g, J);
    if (!guess)
      throw InputError(fmt::format("{}: the graph names no output; add a \"model\" section with "
                                   "\"outputs\" or name the prediction A<L>", origin));
    outs.push_back(*guess);
  }
  m.set_outputs(outs);
  if (!file.roles.params.empty()) {
    std::vector<Expr> ps;
    for (const std::string& n : file.roles.params) ps.push_back(named(n, "a parameter"));
    m.set_params(ps);
  }
  return m;
}

Model load_graph_model(const std::filesystem::path& path) {
  return model_from_graph(load_graph_file(path), path.string());
}

}  // namespace dagrad::models
