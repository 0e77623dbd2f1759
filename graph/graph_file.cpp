// Graph files in JSON (docs/graph_format.md). Writing is deterministic: nodes
// in id order (which is topological), keys in a fixed order, only attributes
// that differ from their defaults, and doubles in nlohmann's shortest
// round-trip form; so save -> load -> save reproduces the bytes.
#include "dagrad/graph/graph_file.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/read_file.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view format_tag = "dagrad-graph";
constexpr std::string_view role_names[] = {"input",    "param", "constant", "forward",
                                           "backward", "state", "update"};
constexpr int role_count = 7;

Json dim_json(std::int64_t d) { return d == m_dim ? Json("m") : Json(d); }

Json finite(double v, const Graph& g, NodeId id, std::string_view what) {
  if (!std::isfinite(v))
    throw GraphError(fmt::format("cannot save {}: attribute {} = {} is not a finite number",
                                 g.describe(id), what, v));
  return v;
}

// Only the attributes that differ from their type's defaults, under the keys
// (and in the order) every version has written: L2's m and a bucket's
// offset under "count", L2's lambda under "scale".
struct AttrsWriter {
  const Graph& g;
  NodeId id;
  Json j = Json::object();

  void number(const char* key, double v, double d) {
    if (v != d) j[key] = finite(v, g, id, key);
  }
  void scale(Scale s) {
    number("scale", s.value, 1.0);
    if (s.m_pow != 0) j["m_pow"] = s.m_pow;
  }
  void operator()(const NoAttrs&) {}
  void operator()(const ConstantAttrs& a) { number("value", a.value, 0.0); }
  void operator()(const MatmulAttrs& a) {
    scale(a.scale);
    if (a.trans_a) j["trans_a"] = true;
    if (a.trans_b) j["trans_b"] = true;
  }
  void operator()(const AffineAttrs& a) {
    scale(a.scale);
    number("offset", a.offset, 0.0);
  }
  void operator()(const SlopeAttrs& a) { number("slope", a.slope, SlopeAttrs{}.slope); }
  void operator()(const SumAttrs& a) {
    scale(a.scale);
    if (a.axis != -1) j["axis"] = a.axis;
    if (!a.keepdims) j["keepdims"] = false;
  }
  void operator()(const L2Attrs& a) {
    number("scale", a.lambda, L2Attrs{}.lambda);
    if (a.m != 0) j["count"] = a.m;
  }
  void operator()(const MaskAttrs& a) {
    number("keep_prob", a.keep_prob, 1.0);
    if (a.seed != 0) j["seed"] = a.seed;
  }
  void operator()(const DropoutAttrs& a) { number("keep_prob", a.keep_prob, 1.0); }
  void operator()(const HyperAttrs& a) {
    const HyperAttrs d;
    number("beta1", a.beta1, d.beta1);
    number("beta2", a.beta2, d.beta2);
    number("epsilon", a.epsilon, d.epsilon);
    number("weight_decay", a.weight_decay, d.weight_decay);
  }
  void operator()(const BucketAttrs& a) {
    if (a.offset != 0) j["count"] = a.offset;
  }
  // Refused by node_json before they get here.
  void operator()(const UpdateAttrs&) {}
  void operator()(const FusedNetAttrs&) {}
};

Json attrs_json(const Graph& g, NodeId id) {
  AttrsWriter w{g, id};
  std::visit(w, g.node(id).attrs.variant());
  return std::move(w.j);
}

Json node_json(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.attrs.is<FusedNetAttrs>() || n.attrs.is<UpdateAttrs>())
    throw GraphError(fmt::format("cannot save {}: a fused node is made by passes::optimize "
                                 "for the executor and its program has no file form; save the "
                                 "graph before optimizing it", g.describe(id)));
  Json j;
  j["id"] = id;
  j["op"] = ops::op_def(n.op).name;
  if (!n.name.empty()) j["name"] = n.name;
  j["inputs"] = n.inputs;
  j["shape"] = {dim_json(n.shape.rows), dim_json(n.shape.cols)};
  j["role"] = role_names[static_cast<int>(n.role)];
  j["layer"] = n.layer;
  if (Json a = attrs_json(g, id); !a.empty()) j["attrs"] = std::move(a);
  return j;
}

// ---- reading -------------------------------------------------------------

// Where a message points: "model.json: node 5 (Z1)".
struct Where {
  std::string_view origin;
  std::size_t index;
  std::string name;
  std::string str() const {
    return name.empty() ? fmt::format("{}: node {}", origin, index)
                        : fmt::format("{}: node {} ({})", origin, index, name);
  }
};

[[noreturn]] void bad_field(const Where& w, std::string_view field, std::string_view expected) {
  throw InputError(fmt::format("{}: field '{}' must be {}", w.str(), field, expected));
}

std::int64_t int_field(const Json& j, const Where& w, const char* key, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) {
  if (!j.contains(key)) return fallback;
  const Json& v = j.at(key);
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(hi)) ||
      v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi)
    bad_field(w, key, fmt::format("an integer in [{}, {}]", lo, hi));
  return v.get<std::int64_t>();
}

double double_field(const Json& j, const Where& w, const char* key, double fallback) {
  if (!j.contains(key)) return fallback;
  if (!j.at(key).is_number()) bad_field(w, key, "a number");
  return j.at(key).get<double>();
}

bool bool_field(const Json& j, const Where& w, const char* key, bool fallback) {
  if (!j.contains(key)) return fallback;
  if (!j.at(key).is_boolean()) bad_field(w, key, "true or false");
  return j.at(key).get<bool>();
}

// The attributes of an `op` node, read as its type. The keys are those of
// every version's files; one of them that the op does not read is ignored
// when it holds the default every version gave it (so a file that spells
// out defaults loads), and refused otherwise.
Attrs read_attrs(const Json& j, const Where& w, OpKind op) {
  if (!j.is_object()) bad_field(w, "attrs", "an object");
  struct Key {
    std::string_view name;
    Json fallback;  // the default of the key in every version's files
  };
  static const Key keys[] = {
      {"value", 0.0},      {"scale", 1.0},   {"m_pow", 0},       {"offset", 0.0},
      {"slope", 0.01},     {"keep_prob", 1.0}, {"count", 0},     {"seed", 0},
      {"axis", -1},        {"keepdims", true}, {"trans_a", false}, {"trans_b", false},
      {"beta1", 0.9},      {"beta2", 0.999}, {"epsilon", 1e-8}, {"weight_decay", 0.0}};
  // The keys each attribute type reads.
  const std::size_t kind = ops::attrs_kind(op);
  const auto reads = [&](std::string_view key) -> bool {
    auto in = [&](std::initializer_list<std::string_view> ks) { return std::ranges::find(ks, key) != ks.end(); };
    if (kind == attrs_index<ConstantAttrs>()) return in({"value"});
    if (kind == attrs_index<MatmulAttrs>()) return in({"scale", "m_pow", "trans_a", "trans_b"});
    if (kind == attrs_index<AffineAttrs>()) return in({"scale", "m_pow", "offset"});
    if (kind == attrs_index<SlopeAttrs>()) return in({"slope"});
    if (kind == attrs_index<SumAttrs>()) return in({"scale", "m_pow", "axis", "keepdims"});
    if (kind == attrs_index<L2Attrs>()) return in({"scale", "count"});
    if (kind == attrs_index<MaskAttrs>()) return in({"keep_prob", "seed"});
    if (kind == attrs_index<DropoutAttrs>()) return in({"keep_prob"});
    if (kind == attrs_index<HyperAttrs>()) return in({"beta1", "beta2", "epsilon", "weight_decay"});
    if (kind == attrs_index<BucketAttrs>()) return in({"count"});
    return false;
  };
  for (const auto& [key, v] : j.items()) {
    const auto k = std::ranges::find(keys, key, &Key::name);
    if (k == std::end(keys))
      throw InputError(fmt::format("{}: unknown attribute '{}'", w.str(), key));
    if (!reads(key) && v != k->fallback)
      throw InputError(fmt::format("{}: attribute '{}' does not apply to a {} node", w.str(), key,
                                   ops::op_def(op).name));
  }
  const auto scale = [&] {
    return Scale(double_field(j, w, "scale", 1.0), static_cast<int>(int_field(j, w, "m_pow", 0, -4, 4)));
  };
  if (kind == attrs_index<ConstantAttrs>()) return ConstantAttrs{double_field(j, w, "value", 0.0)};
  if (kind == attrs_index<MatmulAttrs>())
    return MatmulAttrs{scale(), bool_field(j, w, "trans_a", false), bool_field(j, w, "trans_b", false)};
  if (kind == attrs_index<AffineAttrs>()) return AffineAttrs{scale(), double_field(j, w, "offset", 0.0)};
  if (kind == attrs_index<SlopeAttrs>()) return SlopeAttrs{double_field(j, w, "slope", SlopeAttrs{}.slope)};
  if (kind == attrs_index<SumAttrs>())
    return SumAttrs{scale(), static_cast<std::int8_t>(int_field(j, w, "axis", -1, -1, 1)),
                    bool_field(j, w, "keepdims", true)};
  if (kind == attrs_index<L2Attrs>())
    return L2Attrs{double_field(j, w, "scale", L2Attrs{}.lambda), int_field(j, w, "count", 0, INT64_MIN, INT64_MAX)};
  if (kind == attrs_index<MaskAttrs>()) {
    if (j.contains("seed") && !j.at("seed").is_number_unsigned())
      bad_field(w, "seed", "an unsigned integer");
    return MaskAttrs{double_field(j, w, "keep_prob", 1.0),
                     j.contains("seed") ? j.at("seed").get<std::uint64_t>() : 0};
  }
  if (kind == attrs_index<DropoutAttrs>()) return DropoutAttrs{double_field(j, w, "keep_prob", 1.0)};
  if (kind == attrs_index<HyperAttrs>()) {
    const HyperAttrs d;
    return HyperAttrs{double_field(j, w, "beta1", d.beta1), double_field(j, w, "beta2", d.beta2),
                      double_field(j, w, "epsilon", d.epsilon), double_field(j, w, "weight_decay", d.weight_decay)};
  }
  if (kind == attrs_index<BucketAttrs>()) return BucketAttrs{int_field(j, w, "count", 0, INT64_MIN, INT64_MAX)};
  return {};
}

Role read_role(const Json& j, const Where& w) {
  if (!j.contains("role")) return Role::forward;
  const Json& r = j.at("role");
  for (int i = 0; i < role_count; ++i)
    if (r.is_string() && r.get<std::string>() == role_names[i]) return static_cast<Role>(i);
  bad_field(w, "role", "one of input, param, constant, forward, backward, state, update");
}

OpKind read_op(const Json& j, const Where& w) {
  if (!j.contains("op") || !j.at("op").is_string()) bad_field(w, "op", "an op name");
  try {
    return ops::op_from_name(j.at("op").get<std::string>());
  } catch (const GraphError& e) {
    throw GraphError(fmt::format("{}: {}", w.str(), e.what()));
  }
}

Node read_node(const Json& j, std::string_view origin, std::size_t index, std::size_t count) {
  Where w{origin, index, {}};
  if (!j.is_object()) throw InputError(fmt::format("{}: is not a JSON object", w.str()));
  Node n;
  if (j.contains("name")) {
    if (!j.at("name").is_string()) bad_field(w, "name", "a string");
    n.name = j.at("name").get<std::string>();
    // A name becomes a file name inside the model file (zip, npz): control
    // bytes there would make a file no reader takes back.
    if (printable(n.name) != n.name) bad_field(w, "name", "printable text (no control bytes)");
    w.name = n.name;
  }
  if (int_field(j, w, "id", -1, -1, INT64_MAX) != static_cast<std::int64_t>(index))
    bad_field(w, "id", fmt::format("{} (ids run 0, 1, 2, ... in file order)", index));
  n.op = read_op(j, w);
  const Json& ins = j.contains("inputs") ? j.at("inputs") : Json::array();
  if (!ins.is_array()) bad_field(w, "inputs", "an array of node ids");
  for (const Json& in : ins) {
    if (!in.is_number_unsigned()) bad_field(w, "inputs", "an array of node ids");
    const auto id = in.get<std::uint64_t>();
    if (id >= count)
      throw GraphError(fmt::format("{} has a dangling edge to node {} (the file has {} nodes)",
                                   w.str(), id, count));
    n.inputs.push_back(static_cast<NodeId>(id));
  }
  const Json& sh = j.contains("shape") ? j.at("shape") : Json();
  auto dim = [&](const Json& d) -> std::int64_t {
    if (d.is_string() && d.get<std::string>() == "m") return m_dim;
    if (d.is_number_unsigned() && d.get<std::uint64_t>() >= 1 &&
        d.get<std::uint64_t>() <= std::uint64_t{1} << 40)
      return d.get<std::int64_t>();
    bad_field(w, "shape", "[rows, cols], each a positive integer or \"m\"");
  };
  if (!sh.is_array() || sh.size() != 2) bad_field(w, "shape", "[rows, cols], each a positive integer or \"m\"");
  n.shape = Shape{dim(sh[0]), dim(sh[1])};
  // Each dimension is at most 2^40, so rows * cols could wrap an int64 in
  // Shape::size() before checked_bytes sees it: the count is bounded here.
  constexpr std::int64_t max_values = std::int64_t{1} << 40;
  if (n.shape.rows != m_dim && n.shape.cols != m_dim && n.shape.rows > max_values / n.shape.cols)
    bad_field(w, "shape", "[rows, cols] of at most 2^40 values");
  n.role = read_role(j, w);
  n.layer = static_cast<int>(int_field(j, w, "layer", 0, INT32_MIN, INT32_MAX));
  if (j.contains("attrs")) n.attrs = read_attrs(j.at("attrs"), w, n.op);
  return n;
}

// A node on a cycle (depth-first search with an explicit stack), so the error
// can name it and the cycle's path.
void reject_cycles(const std::vector<Node>& nodes, std::string_view origin) {
  enum : std::uint8_t { fresh, open, done };
  std::vector<std::uint8_t> state(nodes.size(), fresh);
  for (std::size_t root = 0; root < nodes.size(); ++root) {
    if (state[root] != fresh) continue;
    std::vector<std::pair<std::size_t, std::size_t>> stack{{root, 0}};  // node, next operand
    state[root] = open;
    while (!stack.empty()) {
      auto& [id, next] = stack.back();
      if (next == nodes[id].inputs.size()) {
        state[id] = done;
        stack.pop_back();
        continue;
      }
      const std::size_t in = nodes[id].inputs[next++];
      if (state[in] == open) {
        const Where w{origin, in, nodes[in].name};
        throw GraphError(
            fmt::format("{} is on a cycle (it depends on itself through node {})", w.str(), id));
      }
      if (state[in] == fresh) {
        state[in] = open;
        stack.emplace_back(in, 0);
      }
    }
  }
}

Json parse(std::string_view text, std::string_view origin) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    if (e.byte >= text.size())
      throw InputError(
          fmt::format("{}: the JSON ends early at byte {} (truncated file?)", origin, text.size()));
    throw InputError(fmt::format("{}: not valid JSON at byte {}: {}", origin, e.byte, without_library_tags(e.what())));
  }
}

std::string string_or_empty(const Json& top, const char* key) {
  return top.contains(key) && top.at(key).is_string() ? top.at(key).get<std::string>() : "";
}

DType read_header(const Json& top, std::string_view origin) {
  if (!top.is_object() || string_or_empty(top, "format") != format_tag)
    throw InputError(fmt::format("{}: not a dagrad graph file (expected \"format\": \"{}\")",
                                 origin, format_tag));
  const Json& v = top.contains("version") ? top.at("version") : Json();
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1 ||
      v.get<std::int64_t>() > graph_format_version)
    throw InputError(
        fmt::format("{}: graph format version {} is not supported (this dagrad reads "
                    "versions 1 to {})",
                    origin, v.dump(), graph_format_version));
  const std::string dtype = string_or_empty(top, "dtype");
  if (dtype != "f32" && dtype != "f64")
    throw InputError(fmt::format("{}: field 'dtype' must be \"f32\" or \"f64\"", origin));
  if (!top.contains("nodes") || !top.at("nodes").is_array())
    throw InputError(fmt::format("{}: field 'nodes' must be an array", origin));
  return dtype == "f32" ? DType::f32 : DType::f64;
}

// Rethrows from_nodes' errors with the file's name in front, keeping the type.
Graph rebuild(DType dtype, std::vector<Node> nodes, std::string_view origin) {
  try {
    return Graph::from_nodes(dtype, std::move(nodes));
  } catch (const ShapeError& e) {
    throw ShapeError(fmt::format("{}: {}", origin, e.what()));
  } catch (const GraphError& e) {
    throw GraphError(fmt::format("{}: {}", origin, e.what()));
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", origin, e.what()));
  }
}

std::vector<std::string> names_field(const Json& m, std::string_view origin, const char* key) {
  std::vector<std::string> out;
  if (!m.contains(key)) return out;
  const Json& list = m.at(key);
  if (!list.is_array())
    throw InputError(fmt::format("{}: model field '{}' must be an array of node names", origin, key));
  for (const Json& n : list) {
    if (!n.is_string())
      throw InputError(fmt::format("{}: model field '{}' must be an array of node names", origin, key));
    out.push_back(n.get<std::string>());
  }
  return out;
}

// The "model" section: which named nodes are the cost, outputs and parameters.
GraphRoles read_roles(const Json& top, const Graph& g, std::string_view origin) {
  GraphRoles r;
  if (!top.contains("model")) return r;
  const Json& m = top.at("model");
  if (!m.is_object()) throw InputError(fmt::format("{}: field 'model' must be an object", origin));
  if (m.contains("cost")) {
    if (!m.at("cost").is_string())
      throw InputError(fmt::format("{}: model field 'cost' must be a node name", origin));
    r.cost = m.at("cost").get<std::string>();
  }
  r.outputs = names_field(m, origin, "outputs");
  r.params = names_field(m, origin, "params");
  std::vector<std::string> all = r.outputs;
  all.insert(all.end(), r.params.begin(), r.params.end());
  if (!r.cost.empty()) all.push_back(r.cost);
  for (const std::string& name : all)
    if (!g.find(name))
      throw InputError(fmt::format("{}: the model section names '{}', which no node is", origin, name));
  for (const std::string& name : r.params)
    if (g.node(*g.find(name)).op != OpKind::param)
      throw InputError(fmt::format("{}: the model section lists '{}' as a parameter, but it is a {} "
                                   "node", origin, name, ops::op_def(g.node(*g.find(name)).op).name));
  return r;
}

}  // namespace

GraphFile graph_file_from_json(std::string_view text, std::string_view origin) try {
  const Json top = parse(text, origin);
  const DType dtype = read_header(top, origin);
  const Json& list = top.at("nodes");
  std::vector<Node> nodes;
  for (std::size_t i = 0; i < list.size(); ++i)
    nodes.push_back(read_node(list[i], origin, i, list.size()));
  reject_cycles(nodes, origin);
  GraphFile f{rebuild(dtype, std::move(nodes), origin), {}};
  f.roles = read_roles(top, f.graph, origin);
  return f;
} catch (const Json::exception& e) {
  // A safety net: every field is type-checked above, so this is a field
  // combination the checks did not foresee, still reported as bad input.
  throw InputError(fmt::format("{}: malformed graph file: {}", origin, without_library_tags(e.what())));
}

Graph graph_from_json(std::string_view text, std::string_view origin) {
  return std::move(graph_file_from_json(text, origin).graph);
}

// One node per line: a file reads (and diffs) like the graph's listing.
std::string to_json(const Graph& g, const GraphRoles& roles) {
  std::string out = fmt::format("{{\n  \"format\": {},\n  \"version\": {},\n  \"dtype\": {},\n",
                                Json(format_tag).dump(), graph_format_version,
                                Json(dtype_name(g.dtype())).dump());
  if (!roles.empty()) {
    Json m = Json::object();
    if (!roles.cost.empty()) m["cost"] = roles.cost;
    if (!roles.outputs.empty()) m["outputs"] = roles.outputs;
    if (!roles.params.empty()) m["params"] = roles.params;
    out += fmt::format("  \"model\": {},\n", m.dump());
  }
  out += "  \"nodes\": [";
  for (NodeId id = 0; id < g.size(); ++id)
    out += (id == 0 ? "\n    " : ",\n    ") + node_json(g, id).dump();
  return out + "\n  ]\n}\n";
}

void save(const Graph& g, const std::filesystem::path& path, const GraphRoles& roles) {
  io::AtomicFile file(path);  // fails on an unwritable directory before any work
  file.write(to_json(g, roles));
  file.commit();
}

GraphFile load_graph_file(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = io::read_file_bytes(path);
  return graph_file_from_json(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

Graph load(const std::filesystem::path& path) { return std::move(load_graph_file(path).graph); }

}  // namespace dagrad
