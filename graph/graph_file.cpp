// Graph files in JSON (docs/graph_format.md). Writing is deterministic: nodes
// in id order (which is topological), keys in a fixed order, only attributes
// that differ from their defaults, and doubles in nlohmann's shortest
// round-trip form; so save -> load -> save reproduces the bytes.
#include "dagrad/graph/graph_file.hpp"

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
constexpr std::string_view role_names[] = {"input", "param", "constant", "forward", "backward"};

Json finite(double v, const Graph& g, NodeId id, std::string_view what) {
  if (!std::isfinite(v))
    throw GraphError(fmt::format("cannot save {}: attribute {} = {} is not a finite number",
                                 g.describe(id), what, v));
  return v;
}

// Only the attributes that differ from Attrs{}: every op reads its own fields
// and the others stay default, so nothing is lost.
Json attrs_json(const Graph& g, NodeId id) {
  const Attrs& a = g.node(id).attrs;
  const Attrs d;
  Json j = Json::object();
  if (a.value != d.value) j["value"] = finite(a.value, g, id, "value");
  if (a.scale != d.scale) j["scale"] = finite(a.scale, g, id, "scale");
  if (a.offset != d.offset) j["offset"] = finite(a.offset, g, id, "offset");
  if (a.slope != d.slope) j["slope"] = finite(a.slope, g, id, "slope");
  if (a.keep_prob != d.keep_prob) j["keep_prob"] = finite(a.keep_prob, g, id, "keep_prob");
  if (a.count != d.count) j["count"] = a.count;
  if (a.seed != d.seed) j["seed"] = a.seed;
  if (a.axis != d.axis) j["axis"] = a.axis;
  if (a.keepdims != d.keepdims) j["keepdims"] = a.keepdims;
  if (a.trans_a != d.trans_a) j["trans_a"] = a.trans_a;
  if (a.trans_b != d.trans_b) j["trans_b"] = a.trans_b;
  return j;
}

Json node_json(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  Json j;
  j["id"] = id;
  j["op"] = ops::op_def(n.op).name;
  if (!n.name.empty()) j["name"] = n.name;
  j["inputs"] = n.inputs;
  j["shape"] = {n.shape.rows, n.shape.cols};
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

Attrs read_attrs(const Json& j, const Where& w) {
  Attrs a;
  if (!j.is_object()) bad_field(w, "attrs", "an object");
  for (const auto& [key, v] : j.items()) {
    static constexpr std::string_view known[] = {"value",     "scale",   "offset", "slope",
                                                 "keep_prob", "count",   "seed",   "axis",
                                                 "keepdims",  "trans_a", "trans_b"};
    if (std::ranges::find(known, key) == std::end(known))
      throw InputError(fmt::format("{}: unknown attribute '{}'", w.str(), key));
  }
  a.value = double_field(j, w, "value", a.value);
  a.scale = double_field(j, w, "scale", a.scale);
  a.offset = double_field(j, w, "offset", a.offset);
  a.slope = double_field(j, w, "slope", a.slope);
  a.keep_prob = double_field(j, w, "keep_prob", a.keep_prob);
  a.count = int_field(j, w, "count", a.count, INT64_MIN, INT64_MAX);
  if (j.contains("seed") && !j.at("seed").is_number_unsigned())
    bad_field(w, "seed", "an unsigned integer");
  a.seed = j.contains("seed") ? j.at("seed").get<std::uint64_t>() : a.seed;
  a.axis = static_cast<std::int8_t>(int_field(j, w, "axis", a.axis, -1, 1));
  a.keepdims = bool_field(j, w, "keepdims", a.keepdims);
  a.trans_a = bool_field(j, w, "trans_a", a.trans_a);
  a.trans_b = bool_field(j, w, "trans_b", a.trans_b);
  return a;
}

Role read_role(const Json& j, const Where& w) {
  if (!j.contains("role")) return Role::forward;
  const Json& r = j.at("role");
  for (int i = 0; i < 5; ++i)
    if (r.is_string() && r.get<std::string>() == role_names[i]) return static_cast<Role>(i);
  bad_field(w, "role", "one of input, param, constant, forward, backward");
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
    n.name = w.name = j.at("name").get<std::string>();
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
  if (!sh.is_array() || sh.size() != 2 || !sh[0].is_number_integer() ||
      !sh[1].is_number_integer() || sh[0].get<std::int64_t>() <= 0 ||
      sh[1].get<std::int64_t>() <= 0)
    bad_field(w, "shape", "[rows, cols] with both positive");
  n.shape = Shape{sh[0].get<std::int64_t>(), sh[1].get<std::int64_t>()};
  n.role = read_role(j, w);
  n.layer = static_cast<int>(int_field(j, w, "layer", 0, INT32_MIN, INT32_MAX));
  if (j.contains("attrs")) n.attrs = read_attrs(j.at("attrs"), w);
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
    throw InputError(fmt::format("{}: not valid JSON at byte {}: {}", origin, e.byte, e.what()));
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
  if (!v.is_number_integer() || v.get<std::int64_t>() != graph_format_version)
    throw InputError(
        fmt::format("{}: graph format version {} is not supported (this dagrad reads "
                    "version {})",
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

}  // namespace

Graph graph_from_json(std::string_view text, std::string_view origin) try {
  const Json top = parse(text, origin);
  const DType dtype = read_header(top, origin);
  const Json& list = top.at("nodes");
  std::vector<Node> nodes;
  for (std::size_t i = 0; i < list.size(); ++i)
    nodes.push_back(read_node(list[i], origin, i, list.size()));
  reject_cycles(nodes, origin);
  return rebuild(dtype, std::move(nodes), origin);
} catch (const Json::exception& e) {
  // A safety net: every field is type-checked above, so this is a field
  // combination the checks did not foresee, still reported as bad input.
  throw InputError(fmt::format("{}: malformed graph file: {}", origin, e.what()));
}

// One node per line: a file reads (and diffs) like the graph's listing.
std::string to_json(const Graph& g) {
  std::string out = fmt::format("{{\n  \"format\": {},\n  \"version\": {},\n  \"dtype\": {},\n",
                                Json(format_tag).dump(), graph_format_version,
                                Json(dtype_name(g.dtype())).dump());
  out += "  \"nodes\": [";
  for (NodeId id = 0; id < g.size(); ++id)
    out += (id == 0 ? "\n    " : ",\n    ") + node_json(g, id).dump();
  return out + "\n  ]\n}\n";
}

void save(const Graph& g, const std::filesystem::path& path) {
  io::AtomicFile file(path);  // fails on an unwritable directory before any work
  file.write(to_json(g));
  file.commit();
}

Graph load(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = io::read_file_bytes(path);
  return graph_from_json(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

}  // namespace dagrad
