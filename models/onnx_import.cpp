// An ONNX feed-forward network as a dagrad model (models/onnx.hpp).
//
// ONNX holds samples as rows: a tensor [batch, k] is the dagrad value
// V (k x m) = tensor^T. The file's nodes are read in order (ONNX requires
// them sorted) and each becomes DSL expressions on the transposed values:
//   Gemm(A, B, C, transB=1)    Z = W A + b     W = B (out x in) as it is
//   MatMul(A, B) + Add(., c)   Z = W A + b     W = B^T, B being [in, out]
//   Relu, Tanh, ...            the same op, element-wise
//   Softmax(axis 1 or -1)      dagrad's column-wise softmax
//   Identity, Dropout, Flatten(axis 1)   the value itself
// Initializers (and Constant nodes) of rank 0 become constants: x * 2 is
// affine(x, 2, 0). Every other one becomes a parameter, named like the notes
// (W1, b1, ...) unless the file is dagrad's own (onnx_names_key). A leading
// (X - mu) / sigma with constant mu and sigma > 0 becomes the model's input
// normalization, so the model takes raw features as the file does.
#include "dagrad/models/onnx.hpp"

#include <onnx/onnx_pb.h>

#include <bit>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/read_file.hpp"
#include "dagrad/ops/dsl.hpp"

namespace dagrad::models {

namespace {

namespace ox = ::onnx;

static_assert(std::endian::native == std::endian::little, "raw_data is read as little-endian");

// A float attribute (LeakyRelu's alpha, Gemm's alpha) as the number it was
// written from: 0.01f is 0.0099999998f, and the slope meant is 0.01.
// NOTE: the shortest decimal that rounds to the float, read as a double. A
// slope that is no short decimal (1/3) comes back as the float's decimal.
double decimal_of(float f) { return std::strtod(fmt::format("{}", f).c_str(), nullptr); }

// A tensor of the file as the import sees it.
struct Value {
  // centered: X - mu, which the Div by sigma of the normalization reads
  enum class Kind { samples, constant, raw_input, centered } kind = Kind::samples;
  Expr expr;                               // samples: (k x m), the file's [batch, k]
  const ox::TensorProto* tensor = nullptr;  // constant
  std::vector<std::int64_t> dims;          // constant: its dims; raw input: without the batch
};

// The parameter a tensor became, and how it is read: a tensor is one
// parameter, so a second use that needs another layout is refused.
enum class Use { weight, weight_transposed, vector, fixed };  // fixed: a vector never trained
struct Param {
  Expr expr;
  Use use;
  double scale;
};

class Importer;
using Handler = void (Importer::*)(const ox::NodeProto&);

struct OpEntry {
  const char* op_type;
  Handler handler;
  std::vector<std::string> attributes;  // the ones dagrad reads; any other is refused
};

class Importer {
 public:
  Importer(const ox::ModelProto& proto, std::string origin, const OnnxImportOptions& options)
      : proto_(proto), graph_(proto.graph()), origin_(std::move(origin)), options_(options) {}
  Model run();

  // One per op type (the table in ops()).
  void alias(const ox::NodeProto& n);
  void dropout(const ox::NodeProto& n);
  void flatten(const ox::NodeProto& n);
  void activation(const ox::NodeProto& n);
  void leaky_relu(const ox::NodeProto& n);
  void softmax(const ox::NodeProto& n);
  void gemm(const ox::NodeProto& n);
  void matmul(const ox::NodeProto& n);
  void arithmetic(const ox::NodeProto& n);
  void constant(const ox::NodeProto& n);

 private:
  [[noreturn]] void bad(std::string_view what) const;
  [[noreturn]] void bad_node(const ox::NodeProto& n, std::string_view what) const;
  void read_header();
  void read_initializers();
  void read_input();
  void read_node(const ox::NodeProto& n, std::size_t index);
  void finish(const std::string& output);

  const ox::AttributeProto* attribute(const ox::NodeProto& n, const char* name,
                                      ox::AttributeProto::AttributeType type) const;
  float attr_f(const ox::NodeProto& n, const char* name, float fallback) const;
  std::int64_t attr_i(const ox::NodeProto& n, const char* name, std::int64_t fallback) const;
  void arity(const ox::NodeProto& n, int min_in, int max_in) const;
  const Value& in(const ox::NodeProto& n, int k) const;
  Expr samples(const ox::NodeProto& n, int k) const;
  void define(const ox::NodeProto& n, Value v);
  void define(const ox::NodeProto& n, Expr e) { define(n, Value{Value::Kind::samples, e, nullptr, {}}); }
  std::vector<double> data(const ox::TensorProto& t, std::string_view what) const;
  std::vector<std::int64_t> dims_of(const ox::TensorProto& t, std::string_view what) const;
  bool uses_once(const std::string& tensor, const char* op_type) const;

  std::string fresh(const std::string& want) const;
  const std::string& name_of(const Value& c) const { return tensor_names_.at(c.tensor); }
  Expr parameter(const ox::NodeProto& n, const Value& c, Shape shape, std::string notes_name, Use use,
                 double scale);
  Expr vector_param(const ox::NodeProto& n, const Value& c, std::string notes_name, double scale = 1.0,
                    Use use = Use::vector);
  Expr layer_product(const ox::NodeProto& n, Expr A, const Value& B, bool b_is_w, double alpha);
  void name_layer_output(Expr e, const ox::NodeProto& n, const std::string& notes_name);
  bool is_last_z(Expr e) const { return last_z_.valid() && e.id == last_z_.id; }
  bool is_open_product(const Value& v) const {
    return open_product_.valid() && v.kind == Value::Kind::samples && v.expr.id == open_product_.id;
  }
  std::optional<std::vector<double>> per_feature(const std::string& tensor) const;
  std::optional<Normalizer> normalization_at(const ox::NodeProto& n) const;
  double scalar_of(const ox::NodeProto& n, int k) const;

  const ox::ModelProto& proto_;
  const ox::GraphProto& graph_;
  std::string origin_;
  OnnxImportOptions options_;
  Model model_;
  std::int64_t opset_ = 0;
  std::map<std::string, const ox::TensorProto*> initializers_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::vector<const ox::NodeProto*>> readers_;
  std::set<std::string> kept_;   // names from a dagrad file (onnx_names_key)
  bool dagrad_file_ = false;
  std::map<const ox::TensorProto*, Param> params_by_tensor_;
  std::map<const ox::TensorProto*, std::string> tensor_names_;  // a Constant's: its output
  std::vector<Expr> params_;
  std::vector<std::pair<std::string, io::Matrix>> param_values_;
  Expr X_;
  int layer_ = 0;
  Expr last_z_;        // the current layer's Z, which an activation names A[l]
  Expr open_product_;  // a MatMul's W A whose bias Add may follow
  std::optional<Normalizer> normalizer_;  // found at the Sub, taken at the Div
  std::size_t index_ = 0;  // of the node being read, for messages
};

const std::vector<OpEntry>& ops() {
  static const std::vector<OpEntry> table{
      {"Identity", &Importer::alias, {}},
      {"Dropout", &Importer::dropout, {"ratio", "seed"}},
      {"Flatten", &Importer::flatten, {"axis"}},
      {"Relu", &Importer::activation, {}},
      {"Sigmoid", &Importer::activation, {}},
      {"Tanh", &Importer::activation, {}},
      {"Exp", &Importer::activation, {}},
      {"Log", &Importer::activation, {}},
      {"Sqrt", &Importer::activation, {}},
      {"Neg", &Importer::activation, {}},
      {"LeakyRelu", &Importer::leaky_relu, {"alpha"}},
      {"Softmax", &Importer::softmax, {"axis"}},
      {"Gemm", &Importer::gemm, {"alpha", "beta", "transA", "transB"}},
      {"MatMul", &Importer::matmul, {}},
      {"Add", &Importer::arithmetic, {}},
      {"Sub", &Importer::arithmetic, {}},
      {"Mul", &Importer::arithmetic, {}},
      {"Div", &Importer::arithmetic, {}},
      {"Pow", &Importer::arithmetic, {}},
      {"Constant", &Importer::constant, {"value"}},
  };
  return table;
}

std::string describe(const ox::NodeProto& n, std::size_t index) {
  const std::string who = !n.name().empty() ? fmt::format("'{}'", n.name())
                          : n.output_size() > 0 ? fmt::format("with output '{}'", n.output(0))
                                                : fmt::format("#{}", index);
  return fmt::format("node {} ({})", who, n.op_type());
}

void Importer::bad(std::string_view what) const {
  throw InputError(fmt::format("{}: {}", origin_, what));
}

void Importer::bad_node(const ox::NodeProto& n, std::string_view what) const {
  bad(fmt::format("{}: {}", describe(n, index_), what));
}

// ---- the file's frame: opset, tensors, the input ------------------------------

void Importer::read_header() {
  if (!proto_.has_graph()) bad("no graph: not an ONNX model");
  for (const ox::OperatorSetIdProto& o : proto_.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
  if (opset_ == 0) bad("the model imports no default-domain opset");
  if (opset_ < onnx_min_opset || opset_ > onnx_max_opset)
    bad(fmt::format("opset {}: dagrad imports opsets {} to {}", opset_, onnx_min_opset, onnx_max_opset));
  for (const ox::StringStringEntryProto& e : proto_.metadata_props()) {
    if (e.key() != onnx_names_key) continue;
    const auto names = nlohmann::json::parse(e.value(), nullptr, false);
    if (!names.is_array()) bad(fmt::format("metadata '{}' is not a JSON list of names", e.key()));
    for (const auto& s : names)
      if (s.is_string()) kept_.insert(s.get<std::string>());
    dagrad_file_ = true;
  }
  if (graph_.output_size() != 1)
    bad(fmt::format("the graph has {} outputs; dagrad imports models with one", graph_.output_size()));
}

void Importer::read_initializers() {
  for (const ox::TensorProto& t : graph_.initializer()) {
    if (t.name().empty()) bad("an initializer has no name");
    if (!initializers_.emplace(t.name(), &t).second)
      bad(fmt::format("initializer '{}' is defined twice", t.name()));
    values_[t.name()] = Value{Value::Kind::constant, {}, &t, dims_of(t, t.name())};
    tensor_names_[&t] = t.name();
  }
}

// The one graph input that is no initializer: the features, [batch, n_x],
// or [batch, d1, d2, ...] that a Flatten(axis 1) turns into n_x = d1 d2 ...
void Importer::read_input() {
  const ox::ValueInfoProto* input = nullptr;
  for (const ox::ValueInfoProto& v : graph_.input()) {
    if (initializers_.contains(v.name())) continue;  // an initializer listed as an input (IR < 4)
    if (input) bad(fmt::format("the graph has inputs '{}' and '{}'; dagrad imports models with one "
                               "input, the features", input->name(), v.name()));
    input = &v;
  }
  if (!input) bad("the graph has no input");
  const std::string& name = input->name();
  if (!input->type().has_tensor_type() || !input->type().tensor_type().has_shape())
    bad(fmt::format("input '{}' is not a tensor of known rank", name));
  const ox::TypeProto_Tensor& t = input->type().tensor_type();
  const int elem = t.elem_type();
  if (elem != ox::TensorProto::FLOAT && elem != ox::TensorProto::DOUBLE)
    bad(fmt::format("input '{}' has element type {} (onnx.TensorProto); dagrad imports float and "
                    "double models", name, elem));
  const DType dtype = options_.dtype.value_or(elem == ox::TensorProto::FLOAT ? DType::f32 : DType::f64);
  model_ = Model(dtype);
  const ox::TensorShapeProto& shape = t.shape();
  if (shape.dim_size() < 2)
    bad(fmt::format("input '{}' has rank {}; dagrad needs [batch, features]", name, shape.dim_size()));
  // NOTE: the first dimension is the batch whatever the file declares it as
  // (a symbol, or the number the exporter was traced with).
  std::vector<std::int64_t> dims;
  for (int k = 1; k < shape.dim_size(); ++k) {
    const auto& d = shape.dim(k);
    if (!d.has_dim_value() || d.dim_value() <= 0 || d.dim_value() > (std::int64_t{1} << 31))
      bad(fmt::format("input '{}': dimension {} must be a fixed positive size", name, k));
    dims.push_back(d.dim_value());
  }
  if (dims.size() > 1) {
    values_[name] = Value{Value::Kind::raw_input, {}, nullptr, dims};
    return;
  }
  X_ = model_.graph().input(dagrad_file_ && kept_.contains(name) ? name : "X", {dims[0], m_dim});
  values_[name] = Value{Value::Kind::samples, X_, nullptr, {}};
}

std::vector<std::int64_t> Importer::dims_of(const ox::TensorProto& t, std::string_view what) const {
  std::vector<std::int64_t> dims;
  std::int64_t count = 1;
  for (std::int64_t d : t.dims()) {
    if (d < 0 || d > (std::int64_t{1} << 40) || (d > 0 && count > (std::int64_t{1} << 40) / d))
      bad(fmt::format("tensor '{}' has impossible dims", what));
    count *= d;
    dims.push_back(d);
  }
  return dims;
}

// The tensor's values as doubles; float and double tensors only, with
// exactly as many values as its dims say, all finite.
std::vector<double> Importer::data(const ox::TensorProto& t, std::string_view what) const {
  if (t.data_location() == ox::TensorProto::EXTERNAL)
    bad(fmt::format("tensor '{}' keeps its data in an external file; dagrad reads self-contained "
                    "models", what));
  std::size_t count = 1;
  for (std::int64_t d : dims_of(t, what)) count *= static_cast<std::size_t>(d);
  const bool f32 = t.data_type() == ox::TensorProto::FLOAT;
  if (!f32 && t.data_type() != ox::TensorProto::DOUBLE)
    bad(fmt::format("tensor '{}' has data type {}; dagrad reads float and double tensors", what,
                    t.data_type()));
  std::vector<double> out;
  const std::size_t size = f32 ? 4 : 8;
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() / size != count || raw.size() % size != 0)
      bad(fmt::format("tensor '{}' holds {} bytes of data for {} values", what, raw.size(), count));
    out.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      if (f32) {
        float v;
        std::memcpy(&v, raw.data() + 4 * i, 4);
        out[i] = v;
      } else {
        std::memcpy(&out[i], raw.data() + 8 * i, 8);
      }
    }
  } else {
    const auto n = static_cast<std::size_t>(f32 ? t.float_data_size() : t.double_data_size());
    if (n != count) bad(fmt::format("tensor '{}' holds {} values for its {}", what, n, count));
    out.reserve(count);
    if (f32) out.assign(t.float_data().begin(), t.float_data().end());
    else out.assign(t.double_data().begin(), t.double_data().end());
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!std::isfinite(out[i])) bad(fmt::format("tensor '{}' holds {} at index {}", what, out[i], i));
  return out;
}

// ---- helpers for the handlers ----------------------------------------------------

const ox::AttributeProto* Importer::attribute(const ox::NodeProto& n, const char* name,
                                              ox::AttributeProto::AttributeType type) const {
  for (const ox::AttributeProto& a : n.attribute()) {
    if (a.name() != name) continue;
    if (a.type() != type)
      bad_node(n, fmt::format("attribute '{}' has type {}, expected {}", name, static_cast<int>(a.type()),
                              static_cast<int>(type)));
    return &a;
  }
  return nullptr;
}

float Importer::attr_f(const ox::NodeProto& n, const char* name, float fallback) const {
  const auto* a = attribute(n, name, ox::AttributeProto::FLOAT);
  if (a && !std::isfinite(a->f())) bad_node(n, fmt::format("attribute '{}' is {}", name, a->f()));
  return a ? a->f() : fallback;
}

std::int64_t Importer::attr_i(const ox::NodeProto& n, const char* name, std::int64_t fallback) const {
  const auto* a = attribute(n, name, ox::AttributeProto::INT);
  return a ? a->i() : fallback;
}

void Importer::arity(const ox::NodeProto& n, int min_in, int max_in) const {
  if (n.input_size() < min_in || n.input_size() > max_in)
    bad_node(n, fmt::format("has {} inputs, expected {}{}", n.input_size(), min_in,
                            max_in > min_in ? fmt::format(" to {}", max_in) : ""));
  if (n.output_size() < 1 || n.output(0).empty()) bad_node(n, "has no output");
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty() && readers_.contains(n.output(k)))
      bad_node(n, fmt::format("output '{}' is read; dagrad imports its first output only", n.output(k)));
}

const Value& Importer::in(const ox::NodeProto& n, int k) const {
  const auto it = values_.find(n.input(k));
  if (it == values_.end())
    bad_node(n, fmt::format("reads '{}', which no input, initializer or earlier node defines", n.input(k)));
  if (it->second.kind == Value::Kind::raw_input)
    bad_node(n, fmt::format("reads '{}' of rank {}; only Flatten(axis=1) may read it", n.input(k),
                            it->second.dims.size() + 1));
  return it->second;
}

Expr Importer::samples(const ox::NodeProto& n, int k) const {
  const Value& v = in(n, k);
  if (v.kind != Value::Kind::samples)
    bad_node(n, fmt::format("input '{}' is a constant; dagrad imports computations on the batch", n.input(k)));
  return v.expr;
}

void Importer::define(const ox::NodeProto& n, Value v) {
  if (!values_.emplace(n.output(0), std::move(v)).second)
    bad_node(n, fmt::format("defines '{}' a second time", n.output(0)));
}

// Whether `tensor` is read by exactly one node, of type op_type.
bool Importer::uses_once(const std::string& tensor, const char* op_type) const {
  const auto it = readers_.find(tensor);
  return it != readers_.end() && it->second.size() == 1 && it->second[0]->op_type() == op_type;
}

std::string Importer::fresh(const std::string& want) const {
  std::string name = want;
  for (int k = 1; model_.graph().find(name); ++k) name = fmt::format("{}_{}", want, k);
  return name;
}

// A parameter from a constant tensor, its values times `scale` (Gemm's
// beta). Its name is the file's for dagrad's own files, else the notes'
// (W1, b1), else the tensor's own.
Expr Importer::parameter(const ox::NodeProto& n, const Value& c, Shape shape, std::string notes_name,
                         Use use, double scale) {
  const std::string& tname = name_of(c);
  if (auto it = params_by_tensor_.find(c.tensor); it != params_by_tensor_.end()) {
    if (it->second.use != use || it->second.scale != scale)
      bad_node(n, fmt::format("reads '{}' in another layout or scale than an earlier node; dagrad "
                              "makes one parameter of a tensor", tname));
    return it->second.expr;
  }
  const bool transpose = use == Use::weight_transposed;
  std::vector<double> values = data(*c.tensor, tname);
  for (double& v : values) v *= scale;
  if (static_cast<std::int64_t>(values.size()) != shape.rows * shape.cols)
    bad_node(n, fmt::format("'{}' has {} values, not the {} of a {} parameter", tname, values.size(),
                            shape.rows * shape.cols, to_string(shape)));
  io::Matrix m(shape);
  for (std::int64_t r = 0; r < shape.rows; ++r)
    for (std::int64_t k = 0; k < shape.cols; ++k)
      m(r, k) = values[static_cast<std::size_t>(transpose ? k * shape.rows + r : r * shape.cols + k)];
  const std::string name =
      fresh(kept_.contains(tname) ? tname : !dagrad_file_ && !notes_name.empty() ? notes_name : tname);
  Expr p = model_.graph().param(name, shape);
  params_by_tensor_[c.tensor] = {p, use, scale};
  if (use != Use::fixed) params_.push_back(p);  // a fixed one keeps its value: never trained
  param_values_.emplace_back(name, std::move(m));
  return p;
}

// A constant of rank >= 1 read against a batch: [k], [1, k] or [1] as (k x 1).
Expr Importer::vector_param(const ox::NodeProto& n, const Value& c, std::string notes_name, double scale, Use use) {
  const auto& d = c.dims;
  const bool vec = d.size() == 1 || (d.size() == 2 && d[0] == 1);
  if (!vec || d.back() < 1)
    bad_node(n, fmt::format("constant '{}' has shape [{}], which does not broadcast over the batch "
                            "as [k] or [1, k]", name_of(c), fmt::join(d, ", ")));
  return parameter(n, c, {d.back(), 1}, std::move(notes_name), use, scale);
}

// Z = alpha W A for a layer: B is W (b_is_w: Gemm with transB = 1) or W^T.
// NOTE: a W^T in the file is stored transposed, as the notes' W (out x in).
Expr Importer::layer_product(const ox::NodeProto& n, Expr A, const Value& B, bool b_is_w,
                             double alpha) {
  if (B.kind != Value::Kind::constant || B.dims.size() != 2 || B.dims[0] < 1 || B.dims[1] < 1)
    bad_node(n, fmt::format("the weight '{}' must be a constant matrix", n.input(1)));
  ++layer_;
  model_.graph().set_current_layer(layer_);
  const Shape w = b_is_w ? Shape{B.dims[0], B.dims[1]} : Shape{B.dims[1], B.dims[0]};
  Expr W = parameter(n, B, w, fmt::format("W{}", layer_), b_is_w ? Use::weight : Use::weight_transposed, 1.0);
  return dagrad::matmul(W, A, alpha);
}

// The node a file tensor names keeps that name (dagrad's files), or takes
// the notes' name (Z1, A1).
void Importer::name_layer_output(Expr e, const ox::NodeProto& n, const std::string& notes_name) {
  const std::string& tensor = n.output(0);
  const std::string name = dagrad_file_ ? (kept_.contains(tensor) ? tensor : "") : notes_name;
  if (name.empty() || e.node().op == OpKind::input || e.node().op == OpKind::param) return;
  if (!e.name().empty() && e.name() == name) return;
  if (model_.graph().find(name)) return;  // a name once: the first node keeps it
  e.named(name);
}

// ---- the handlers ------------------------------------------------------------------

void Importer::alias(const ox::NodeProto& n) {
  arity(n, 1, 1);
  define(n, samples(n, 0));
}

// Dropout in inference is the identity; a training_mode input is refused.
void Importer::dropout(const ox::NodeProto& n) {
  arity(n, 1, 3);
  if (n.input_size() == 3 && !n.input(2).empty())
    bad_node(n, "has a training_mode input; dagrad imports inference graphs");
  define(n, samples(n, 0));
}

void Importer::flatten(const ox::NodeProto& n) {
  arity(n, 1, 1);
  const auto it = values_.find(n.input(0));
  const bool raw = it != values_.end() && it->second.kind == Value::Kind::raw_input;
  const auto rank = raw ? static_cast<std::int64_t>(it->second.dims.size()) + 1 : 2;
  std::int64_t axis = attr_i(n, "axis", 1);
  if (axis < 0) axis += rank;
  if (axis != 1) bad_node(n, fmt::format("axis {}: dagrad flattens everything but the batch (axis 1)", axis));
  if (!raw) return define(n, samples(n, 0));
  std::int64_t features = 1;
  for (std::int64_t d : it->second.dims) {
    if (features > (std::int64_t{1} << 40) / d) bad_node(n, "flattens to an impossible size");
    features *= d;
  }
  if (X_.valid()) bad_node(n, "flattens the input a second time");
  X_ = model_.graph().input("X", {features, m_dim});
  define(n, X_);
}

// Element-wise unary ops; an activation of a layer's Z is that layer's A.
void Importer::activation(const ox::NodeProto& n) {
  arity(n, 1, 1);
  const Expr x = samples(n, 0);
  static const std::map<std::string, Expr (*)(Expr), std::less<>> fns{
      {"Relu", &dagrad::relu}, {"Sigmoid", &dagrad::sigmoid}, {"Tanh", &dagrad::tanh},
      {"Exp", &dagrad::exp},   {"Log", &dagrad::log},         {"Sqrt", &dagrad::sqrt},
      {"Neg", [](Expr e) { return -e; }}};
  const Expr y = fns.at(n.op_type())(x);
  const bool is_activation = n.op_type() == "Relu" || n.op_type() == "Sigmoid" || n.op_type() == "Tanh";
  name_layer_output(y, n, is_activation && is_last_z(x) ? fmt::format("A{}", layer_) : "");
  define(n, y);
}

void Importer::leaky_relu(const ox::NodeProto& n) {
  arity(n, 1, 1);
  const Expr x = samples(n, 0);
  const Expr y = dagrad::leaky_relu(x, decimal_of(attr_f(n, "alpha", 0.01f)));
  name_layer_output(y, n, is_last_z(x) ? fmt::format("A{}", layer_) : "");
  define(n, y);
}

// Over the units of each sample: axis 1 of [batch, k] (or -1, the default
// from opset 13; before 13 axis 1 was the default and 2-D tensors agree).
void Importer::softmax(const ox::NodeProto& n) {
  arity(n, 1, 1);
  const Expr x = samples(n, 0);
  const std::int64_t axis = attr_i(n, "axis", opset_ < 13 ? 1 : -1);
  if (axis != 1 && axis != -1) bad_node(n, fmt::format("axis {}: dagrad's softmax is over the units (axis 1)", axis));
  const Expr y = dagrad::softmax(x);
  name_layer_output(y, n, is_last_z(x) ? fmt::format("A{}", layer_) : "");
  define(n, y);
}

// Y = alpha A B' + beta C with A [batch, in]: Z = alpha W A + beta b.
void Importer::gemm(const ox::NodeProto& n) {
  arity(n, 2, 3);
  if (attr_i(n, "transA", 0) != 0) bad_node(n, "transA = 1: dagrad reads A as [batch, features]");
  const Expr A = samples(n, 0);
  const bool trans_b = attr_i(n, "transB", 0) != 0;
  const double alpha = decimal_of(attr_f(n, "alpha", 1.0f)), beta = decimal_of(attr_f(n, "beta", 1.0f));
  Expr Z = layer_product(n, A, in(n, 1), trans_b, alpha);
  if (n.input_size() == 3 && !n.input(2).empty()) {
    const Value& C = in(n, 2);
    if (C.kind != Value::Kind::constant) bad_node(n, "the bias C must be a constant");
    // Gemm's C broadcasts one way, to [batch, out]: [out] or a scalar.
    if (const std::int64_t out = Z.shape().rows; !C.dims.empty() && C.dims.back() != out && C.dims.back() != 1)
      bad_node(n, fmt::format("the bias '{}' has {} values for {} outputs", n.input(2), C.dims.back(), out));
    // NOTE: beta C is the parameter: a bias scaled by a constant is a bias.
    Z = Z + (C.dims.empty() ? model_.graph().constant(beta * scalar_of(n, 2), {1, 1})
                            : vector_param(n, C, fmt::format("b{}", layer_), beta));
  }
  name_layer_output(Z, n, fmt::format("Z{}", layer_));
  last_z_ = Z;
  define(n, Z);
}

// A [batch, in] times B [in, out]: Z = W A with W = B^T; a bias Add may follow.
void Importer::matmul(const ox::NodeProto& n) {
  arity(n, 2, 2);
  const Expr Z = layer_product(n, samples(n, 0), in(n, 1), false, 1.0);
  open_product_ = Z;
  if (!uses_once(n.output(0), "Add")) {
    name_layer_output(Z, n, fmt::format("Z{}", layer_));
    last_z_ = Z;
  }
  define(n, Z);
}

double Importer::scalar_of(const ox::NodeProto& n, int k) const {
  return data(*in(n, k).tensor, n.input(k))[0];
}

// A constant of one value per feature ([n_x] or [1, n_x]), or nullopt.
std::optional<std::vector<double>> Importer::per_feature(const std::string& tensor) const {
  const auto it = values_.find(tensor);
  if (it == values_.end() || it->second.kind != Value::Kind::constant) return std::nullopt;
  const auto& d = it->second.dims;
  const std::int64_t n_x = X_.shape().rows;
  if (!((d.size() == 1 && d[0] == n_x) || (d.size() == 2 && d[0] == 1 && d[1] == n_x)))
    return std::nullopt;
  return data(*it->second.tensor, tensor);
}

// (X - mu) / sigma at the head of the graph: this Sub reads the input X,
// which nothing else reads, and a constant mu of one value per feature, and
// only a Div by such a constant sigma > 0 reads its result.
std::optional<Normalizer> Importer::normalization_at(const ox::NodeProto& n) const {
  if (n.op_type() != "Sub" || !X_.valid() || model_.normalization) return std::nullopt;
  const Value& a = in(n, 0);
  if (a.kind != Value::Kind::samples || a.expr.id != X_.id || !uses_once(n.input(0), "Sub") ||
      !uses_once(n.output(0), "Div"))
    return std::nullopt;
  const ox::NodeProto& div = *readers_.at(n.output(0)).front();
  if (div.input_size() != 2 || div.input(0) != n.output(0)) return std::nullopt;
  auto mu = per_feature(n.input(1)), sigma = per_feature(div.input(1));
  if (!mu || !sigma || std::any_of(sigma->begin(), sigma->end(), [](double s) { return !(s > 0.0); }))
    return std::nullopt;
  return Normalizer{std::move(*mu), std::move(*sigma)};
}

// Add, Sub, Mul, Div and Pow between batch values, or a batch value and a
// constant: a scalar as dagrad's scalar arithmetic (affine, the same
// roundings), a vector [k] as a parameter (k x 1), the bias b[l] when it
// is added to a MatMul's W A.
void Importer::arithmetic(const ox::NodeProto& n) {
  arity(n, 2, 2);
  if (auto norm = normalization_at(n)) {
    normalizer_ = std::move(norm);
    return define(n, Value{Value::Kind::centered, X_, nullptr, {}});
  }
  const std::string& op = n.op_type();
  const Value &a = in(n, 0), &b = in(n, 1);
  if (a.kind == Value::Kind::centered && normalizer_) {  // the Div that normalization_at found
    model_.normalization = std::move(normalizer_);
    return define(n, X_);
  }
  const bool sa = a.kind == Value::Kind::samples, sb = b.kind == Value::Kind::samples;
  if (!sa && !sb) bad_node(n, "computes on constants alone; dagrad imports computations on the batch");
  const bool scalar_a = !sa && a.dims.empty(), scalar_b = !sb && b.dims.empty();
  const bool closes_layer = op == "Add" && (is_open_product(a) || is_open_product(b));
  auto operand = [&](const Value& v, int k) -> Expr {
    if (v.kind == Value::Kind::samples) return v.expr;
    if (v.dims.empty()) return model_.graph().constant(scalar_of(n, k), {1, 1});
    // A bias closing a layer is trained; a per-feature constant of Sub, Mul,
    // Div or Pow (a scale, a shift, an exponent) was fixed in the source
    // model and stays fixed: a param node outside the model's params. In
    // dagrad's own files every vector is a parameter (its constants are
    // scalars).
    return vector_param(n, v, closes_layer ? fmt::format("b{}", layer_) : "", 1.0,
                        op == "Add" || dagrad_file_ ? Use::vector : Use::fixed);
  };
  Expr z;
  if (op == "Add" && (scalar_a || scalar_b)) {
    z = scalar_b ? a.expr + scalar_of(n, 1) : scalar_of(n, 0) + b.expr;
  } else if (op == "Sub" && (scalar_a || scalar_b)) {
    z = scalar_b ? a.expr - scalar_of(n, 1) : scalar_of(n, 0) - b.expr;
  } else if (op == "Mul" && (scalar_a || scalar_b)) {
    z = scalar_b ? scalar_of(n, 1) * a.expr : scalar_of(n, 0) * b.expr;
  } else {
    const Expr x = operand(a, 0), y = operand(b, 1);
    z = op == "Add"   ? x + y
        : op == "Sub" ? x - y
        : op == "Mul" ? (x.id == y.id ? dagrad::square(x) : dagrad::mul(x, y))
        : op == "Div" ? x / y
                      : dagrad::pow(x, y);
  }
  name_layer_output(z, n, closes_layer ? fmt::format("Z{}", layer_) : "");
  if (closes_layer) {
    last_z_ = z;
    open_product_ = Expr{};
  }
  define(n, z);
}

// Constant: its tensor, as an initializer would be.
void Importer::constant(const ox::NodeProto& n) {
  arity(n, 0, 0);
  if (const auto* v = attribute(n, "value", ox::AttributeProto::TENSOR)) {
    Value c{Value::Kind::constant, {}, &v->t(), dims_of(v->t(), n.output(0))};
    tensor_names_[&v->t()] = n.output(0);
    return define(n, std::move(c));
  }
  bad_node(n, "holds no 'value' tensor (value_float and the others are not read)");
}

// ---- the whole model -------------------------------------------------------------------

void Importer::read_node(const ox::NodeProto& n, std::size_t index) {
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    bad(fmt::format("{}: op domain '{}': dagrad imports standard ONNX ops only", describe(n, index),
                    n.domain()));
  const auto& table = ops();
  const auto it = std::find_if(table.begin(), table.end(),
                               [&](const OpEntry& e) { return n.op_type() == e.op_type; });
  if (it == table.end())
    bad(fmt::format("{}: op '{}' is not imported by dagrad (supported: Gemm, MatMul, Add, Sub, Mul, "
                    "Div, Pow, Relu, LeakyRelu, Tanh, Sigmoid, Softmax, Exp, Log, Sqrt, Neg, "
                    "Flatten, Identity, Dropout, Constant)", describe(n, index), n.op_type()));
  for (const ox::AttributeProto& a : n.attribute())
    if (std::find(it->attributes.begin(), it->attributes.end(), a.name()) == it->attributes.end())
      bad(fmt::format("{}: attribute '{}' is not read by dagrad", describe(n, index), a.name()));
  index_ = index;
  try {
    (this->*(it->handler))(n);
  } catch (const ShapeError& e) {
    bad(fmt::format("{}: {}", describe(n, index), e.what()));
  } catch (const GraphError& e) {
    bad(fmt::format("{}: {}", describe(n, index), e.what()));
  }
}

// The output, the labels Y and the cost the output's op calls for.
void Importer::finish(const std::string& output) {
  const auto it = values_.find(output);
  if (it == values_.end() || it->second.kind != Value::Kind::samples)
    bad(fmt::format("the graph's output '{}' is not computed from the input", output));
  Graph& g = model_.graph();
  g.set_current_layer(layer_);
  Expr A = it->second.expr;
  // The notes' prediction A[L], or Yhat when a hidden activation has that name.
  if (A.name().empty()) {
    const std::string notes = fmt::format("A{}", layer_);
    A.named(fresh(dagrad_file_ && kept_.contains(output) ? output : g.find(notes) ? "Yhat" : notes));
  }
  const Expr Y = g.input(fresh("Y"), A.shape());
  const OpKind op = A.node().op;
  const Expr J = (op == OpKind::sigmoid   ? binary_cross_entropy(A, Y)
                  : op == OpKind::softmax ? categorical_cross_entropy(A, Y)
                                          : mean_squared_error(A, Y))
                     .named(fresh("J"));
  model_.set_cost(J);
  model_.set_output(A);
  model_.set_features(X_);
  model_.set_labels(Y);
  model_.set_params(params_);
  for (auto& [name, values] : param_values_)
    model_.set_value(name, runtime::Tensor::from_matrix(values, model_.dtype()));
}

Model Importer::run() {
  read_header();
  read_initializers();
  for (const ox::NodeProto& n : graph_.node())
    for (const std::string& i : n.input())
      if (!i.empty()) readers_[i].push_back(&n);
  read_input();
  model_.graph().set_current_role(Role::forward);
  for (std::size_t k = 0; k < static_cast<std::size_t>(graph_.node_size()); ++k)
    read_node(graph_.node(static_cast<int>(k)), k);
  if (!X_.valid()) bad("the input is never flattened to [batch, features]");
  finish(graph_.output(0).name());
  return std::move(model_);
}

}  // namespace

Model import_onnx_bytes(std::span<const std::uint8_t> bytes, std::string_view origin,
                        const OnnxImportOptions& options) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw InputError(fmt::format("{}: {} bytes is over protobuf's 2 GB limit", origin, bytes.size()));
  ox::ModelProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw InputError(fmt::format("{}: not an ONNX model (the protobuf does not parse: truncated or "
                                 "another format)", origin));
  return Importer(proto, std::string(origin), options).run();
}

Model import_onnx(const std::filesystem::path& path, const OnnxImportOptions& options) {
  return import_onnx_bytes(io::read_file_bytes(path), path.string(), options);
}

}  // namespace dagrad::models
