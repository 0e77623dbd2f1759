// A model's inference graph as ONNX (models/onnx.hpp).
//
// Every computed value of the inference graph holds the samples in its
// columns, V (k x m); its ONNX tensor is V^T [batch, k]. Leaves have no
// sample dimension and take one of two forms:
//   matrix  a product's weight W (n x k), as it is: Z^T = A^T W^T is
//           Gemm(A^T, W, transB = 1) (transB = 0 for W^T A)
//   vector  a bias or element-wise operand b (k x 1), as the 1-D [k] that
//           broadcasts over the batch rows as b^T does; a constant whose
//           partner has the result's shape is the 0-D scalar
// so that one transposition, applied to the whole graph, is free: no
// Transpose node is ever written.
#include "dagrad/models/onnx.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/ops/op.hpp"

#ifndef DAGRAD_VERSION
#define DAGRAD_VERSION "unknown"
#endif

namespace dagrad::models {

bool onnx_available() { return true; }

namespace {

namespace ox = ::onnx;

// IR version 7 is the one ONNX 1.8 wrote with opset 13: the oldest that
// holds it, so the widest range of runtimes loads the file.
constexpr std::int64_t ir_version = 7;

// Ops written as one ONNX op of the same meaning on the transposed values.
constexpr std::pair<OpKind, const char*> one_to_one[] = {
    {OpKind::add, "Add"},   {OpKind::sub, "Sub"},         {OpKind::mul, "Mul"},
    {OpKind::div, "Div"},   {OpKind::pow, "Pow"},         {OpKind::neg, "Neg"},
    {OpKind::exp, "Exp"},   {OpKind::log, "Log"},         {OpKind::sqrt, "Sqrt"},
    {OpKind::relu, "Relu"}, {OpKind::sigmoid, "Sigmoid"}, {OpKind::tanh, "Tanh"}};

// Ops with a form of their own below: matmul (Gemm), affine (Mul, Add),
// square (Mul x x), leaky_relu (LeakyRelu alpha), softmax (axis 1), dropout
// (none: the identity in inference).
constexpr OpKind special[] = {OpKind::matmul, OpKind::affine, OpKind::square,
                              OpKind::leaky_relu, OpKind::softmax, OpKind::dropout};

const char* onnx_name_of(OpKind op) {
  for (const auto& [k, name] : one_to_one)
    if (k == op) return name;
  return nullptr;
}

bool exportable(OpKind op) {
  return onnx_name_of(op) || std::find(std::begin(special), std::end(special), op) != std::end(special);
}

bool is_leaf(const Node& n) { return n.op == OpKind::param || n.op == OpKind::constant; }

enum class Form : std::uint8_t { none, matrix, vector };

class Exporter {
 public:
  explicit Exporter(const Model& model) : model_(model), g_(model.graph()) {}
  ox::ModelProto run();

 private:
  [[noreturn]] void refuse(NodeId id, std::string_view why) const;
  void mark_needed();
  void check_node(NodeId id);
  void note_leaf_use(NodeId leaf, Form form, NodeId user);
  void plan_gemm_bias(NodeId id);
  std::string fresh(std::string want);
  std::string name_for(NodeId id);
  ox::NodeProto* add_node(const char* op, std::vector<std::string> inputs, const std::string& out);
  std::string add_initializer(std::string name, std::vector<std::int64_t> dims,
                              const std::vector<double>& values);
  std::string scalar(const std::string& base, double v);
  std::string leaf(NodeId id, Form form, bool scalar_ok);
  std::string operand(NodeId x, NodeId user);
  void emit_input(NodeId id);
  void emit(NodeId id);
  void emit_gemm(NodeId product, std::optional<NodeId> bias, NodeId named_as);
  void emit_affine(NodeId id);
  void emit_outputs();
  void add_value_info(ox::ValueInfoProto* v, const std::string& name, std::int64_t units);

  const Model& model_;
  const Graph& g_;
  ox::ModelProto proto_;
  ox::GraphProto* graph_ = nullptr;
  std::vector<char> needed_, sample_;
  std::vector<int> uses_;                   // readers inside the inference graph
  std::vector<Form> form_;                  // leaves: how their readers take them
  std::vector<std::optional<NodeId>> gemm_bias_;  // matmul fused with this add's bias
  std::vector<char> fused_;                 // a matmul written by its bias add
  std::vector<std::string> tensor_;         // each emitted node's ONNX tensor
  std::set<std::string> names_;
  std::vector<std::string> kept_;           // tensors that carry their node's name
};

void Exporter::refuse(NodeId id, std::string_view why) const {
  throw GraphError(fmt::format("export_onnx: node {} ({}) {}", g_.describe(id),
                               ops::op_def(g_.node(id).op).name, why));
}

// The outputs' ancestors in inference: a dropout reads its input only (its
// mask is for training).
void Exporter::mark_needed() {
  needed_.assign(g_.size(), 0);
  uses_.assign(g_.size(), 0);
  std::vector<NodeId> stack;
  for (Expr o : model_.outputs()) {
    stack.push_back(o.id);
    ++uses_[o.id];
  }
  while (!stack.empty()) {
    const NodeId id = stack.back();
    stack.pop_back();
    if (needed_[id]) continue;
    needed_[id] = 1;
    const Node& n = g_.node(id);
    const std::size_t read = n.op == OpKind::dropout ? 1 : n.inputs.size();
    for (std::size_t k = 0; k < read; ++k) {
      ++uses_[n.inputs[k]];
      stack.push_back(n.inputs[k]);
    }
  }
}

void Exporter::note_leaf_use(NodeId leaf, Form form, NodeId user) {
  Form& f = form_[leaf];
  if (g_.node(leaf).op == OpKind::param && f != Form::none && f != form)
    refuse(user, fmt::format("uses parameter {} both as a weight and element-wise; the export "
                             "writes one initializer per parameter", g_.node(leaf).name));
  if (f == Form::none) f = form;
}

// What the export can write: the features input, leaves, and values that
// hold the samples in their columns and are computed from the features.
void Exporter::check_node(NodeId id) {
  const Node& n = g_.node(id);
  if (n.op == OpKind::input) {
    if (id != model_.features().id)
      refuse(id, "is an input other than the features; the exported model takes the features only");
    if (n.shape.cols != m_dim || n.shape.rows == m_dim)
      refuse(id, fmt::format("is {}: the export needs the symbolic sample count m as its columns "
                             "(build the model with m_dim)", to_string(n.shape)));
    sample_[id] = 1;
    return;
  }
  if (is_leaf(n)) return;
  if (n.shape.cols != m_dim || n.shape.rows == m_dim)
    refuse(id, fmt::format("is {}: only values with the samples as columns (k x m) are exported, "
                           "as ONNX tensors [batch, k]", to_string(n.shape)));
  if (n.attrs.scale_factor().m_pow != 0) refuse(id, "scales by a power of the sample count m");
  const std::size_t read = n.op == OpKind::dropout ? 1 : n.inputs.size();
  bool from_samples = false;
  for (std::size_t k = 0; k < read; ++k) from_samples |= sample_[n.inputs[k]] != 0;
  if (!from_samples) refuse(id, "is computed from parameters and constants alone, not from the features");
  sample_[id] = 1;
  if (n.op == OpKind::matmul) {
    const NodeId w = n.inputs[0], a = n.inputs[1];
    if (!is_leaf(g_.node(w)) || !sample_[a] || n.attr<MatmulAttrs>().trans_b)
      refuse(id, "is not a weight times the samples (W A)");
    note_leaf_use(w, Form::matrix, id);
    return;
  }
  for (std::size_t k = 0; k < read; ++k)
    if (is_leaf(g_.node(n.inputs[k]))) note_leaf_use(n.inputs[k], Form::vector, id);
}

// Z = W A + b with b a leaf (k x 1) or (1 x 1), and W A read by nothing
// else: one Gemm with b as C.
// NOTE: Gemm's C broadcasts one way only: W A (1 x m) + b (k x 1) is the
// (k x m) outer sum in dagrad, so it stays a Gemm and an Add.
void Exporter::plan_gemm_bias(NodeId id) {
  const Node& n = g_.node(id);
  if (n.op != OpKind::add) return;
  for (int k = 0; k < 2; ++k) {
    const NodeId p = n.inputs[k], b = n.inputs[1 - k];
    const Node& bn = g_.node(b);
    const bool fits = bn.shape.cols == 1 && (bn.shape.rows == 1 || bn.shape.rows == g_.node(p).shape.rows);
    if (g_.node(p).op == OpKind::matmul && uses_[p] == 1 && is_leaf(bn) && fits && !fused_[p]) {
      gemm_bias_[id] = p;
      fused_[p] = 1;
      return;
    }
  }
}

// `want`, or want_1, want_2, ... when taken: ONNX names are unique.
std::string Exporter::fresh(std::string want) {
  std::string name = want;
  for (int k = 1; names_.contains(name); ++k) name = fmt::format("{}_{}", want, k);
  names_.insert(name);
  return name;
}

// The node's name (Z1, A1), or the op and the node's index for an unnamed one.
std::string Exporter::name_for(NodeId id) {
  const Node& n = g_.node(id);
  if (n.name.empty()) return fresh(fmt::format("{}_{}", ops::op_def(n.op).name, id));
  std::string name = fresh(n.name);
  if (name == n.name) kept_.push_back(name);
  return name;
}

ox::NodeProto* Exporter::add_node(const char* op, std::vector<std::string> inputs,
                                  const std::string& out) {
  ox::NodeProto* node = graph_->add_node();
  node->set_op_type(op);
  node->set_name(out);
  for (std::string& in : inputs) node->add_input(std::move(in));
  node->add_output(out);
  return node;
}

std::string Exporter::add_initializer(std::string name, std::vector<std::int64_t> dims,
                                      const std::vector<double>& values) {
  ox::TensorProto* t = graph_->add_initializer();
  t->set_name(name);
  for (std::int64_t d : dims) t->add_dims(d);
  if (model_.dtype() == DType::f32) {
    t->set_data_type(ox::TensorProto::FLOAT);
    t->mutable_float_data()->Reserve(static_cast<int>(values.size()));
    for (double v : values) t->add_float_data(static_cast<float>(v));
  } else {
    t->set_data_type(ox::TensorProto::DOUBLE);
    t->mutable_double_data()->Reserve(static_cast<int>(values.size()));
    for (double v : values) t->add_double_data(v);
  }
  return name;
}

std::string Exporter::scalar(const std::string& base, double v) {
  return add_initializer(fresh(base), {}, {v});
}

// A leaf as an initializer: a parameter once, under its name; a constant
// (one value repeated) per use, as the scalar when its partner gives the
// result's shape.
std::string Exporter::leaf(NodeId id, Form form, bool scalar_ok) {
  const Node& n = g_.node(id);
  if (n.op == OpKind::constant) {
    if (scalar_ok) return scalar(fmt::format("c_{}", id), n.attr<ConstantAttrs>().value);
    if (n.shape.symbolic()) refuse(id, "holds m values and cannot be written as a fixed tensor");
    const std::vector<double> v(static_cast<std::size_t>(n.shape.size()), n.attr<ConstantAttrs>().value);
    return add_initializer(fresh(fmt::format("c_{}", id)),
                           form == Form::matrix ? std::vector{n.shape.rows, n.shape.cols}
                                                : std::vector{n.shape.rows}, v);
  }
  if (!tensor_[id].empty()) return tensor_[id];
  if (!model_.has_value(n.name))
    throw InputError(fmt::format("export_onnx: parameter {} has no value (train or initialize the "
                                 "model first)", n.name));
  const io::Matrix values = model_.value(n.name).to_matrix();
  tensor_[id] = add_initializer(name_for(id),
                                form == Form::matrix ? std::vector{n.shape.rows, n.shape.cols}
                                                     : std::vector{n.shape.rows}, values.values);
  return tensor_[id];
}

// An element-wise operand: a sample value's tensor, or a leaf as a vector.
std::string Exporter::operand(NodeId x, NodeId user) {
  if (sample_[x]) return tensor_[x];
  const Node& u = g_.node(user);
  const NodeId other = u.inputs.size() == 2 ? u.inputs[u.inputs[0] == x ? 1 : 0] : x;
  return leaf(x, Form::vector, other != x && g_.node(other).shape == u.shape);
}

void Exporter::add_value_info(ox::ValueInfoProto* v, const std::string& name, std::int64_t units) {
  v->set_name(name);
  ox::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(model_.dtype() == DType::f32 ? ox::TensorProto::FLOAT : ox::TensorProto::DOUBLE);
  t->mutable_shape()->add_dim()->set_dim_param("batch");
  t->mutable_shape()->add_dim()->set_dim_value(units);
}

// The raw features, normalized in the graph when the model normalizes its
// data: X_norm = (X - mu) / sigma, so the file takes what predict takes.
void Exporter::emit_input(NodeId id) {
  const Node& n = g_.node(id);
  const std::string x = name_for(id);
  add_value_info(graph_->add_input(), x, n.shape.rows);
  tensor_[id] = x;
  if (!model_.normalization) return;
  const auto n_x = n.shape.rows;
  const std::string mu = add_initializer(fresh("mu"), {n_x}, model_.normalization->mu);
  const std::string sigma = add_initializer(fresh("sigma"), {n_x}, model_.normalization->sigma);
  const std::string centred = fresh(fmt::format("{}_centered", x));
  add_node("Sub", {x, mu}, centred);
  tensor_[id] = fresh(fmt::format("{}_norm", x));
  add_node("Div", {centred, sigma}, tensor_[id]);
}

// Z = s op(W) A (+ b): Z^T = s A^T op(W)^T (+ b^T), one Gemm.
void Exporter::emit_gemm(NodeId product, std::optional<NodeId> bias, NodeId named_as) {
  const Node& p = g_.node(product);
  std::vector<std::string> in{tensor_[p.inputs[1]], leaf(p.inputs[0], Form::matrix, false)};
  if (bias) in.push_back(leaf(*bias, Form::vector, g_.node(*bias).op == OpKind::constant));
  tensor_[named_as] = name_for(named_as);
  ox::NodeProto* gemm = add_node("Gemm", std::move(in), tensor_[named_as]);
  ox::AttributeProto* trans_b = gemm->add_attribute();
  trans_b->set_name("transB");
  trans_b->set_type(ox::AttributeProto::INT);
  const MatmulAttrs& at = p.attr<MatmulAttrs>();
  trans_b->set_i(at.trans_a ? 0 : 1);
  if (at.scale.value != 1.0) {
    ox::AttributeProto* alpha = gemm->add_attribute();
    alpha->set_name("alpha");
    alpha->set_type(ox::AttributeProto::FLOAT);
    alpha->set_f(static_cast<float>(at.scale.value));
  }
}

// y = s x + o as Mul by s, then Add o; the same two roundings as the kernel.
void Exporter::emit_affine(NodeId id) {
  const Node& n = g_.node(id);
  const std::string out = name_for(id);
  std::string x = tensor_[n.inputs[0]];
  const AffineAttrs& at = n.attr<AffineAttrs>();
  if (at.scale.value != 1.0) {
    const std::string scaled = at.offset == 0.0 ? out : fresh(fmt::format("{}_scaled", out));
    add_node("Mul", {x, scalar(fmt::format("{}_scale", out), at.scale.value)}, scaled);
    x = scaled;
  }
  if (at.offset != 0.0 || x != out) {
    if (at.offset != 0.0) add_node("Add", {x, scalar(fmt::format("{}_offset", out), at.offset)}, out);
    else add_node("Identity", {x}, out);
  }
  tensor_[id] = out;
}

void Exporter::emit(NodeId id) {
  const Node& n = g_.node(id);
  if (n.op == OpKind::input) return emit_input(id);
  if (is_leaf(n) || fused_[id]) return;  // written where they are read
  if (n.op == OpKind::dropout) {  // the identity in inference
    tensor_[id] = tensor_[n.inputs[0]];
    return;
  }
  if (gemm_bias_[id]) {
    const NodeId p = *gemm_bias_[id];
    return emit_gemm(p, n.inputs[0] == p ? n.inputs[1] : n.inputs[0], id);
  }
  if (n.op == OpKind::matmul) return emit_gemm(id, std::nullopt, id);
  if (n.op == OpKind::affine) return emit_affine(id);
  std::vector<std::string> in;
  for (NodeId x : n.inputs) in.push_back(operand(x, id));
  const char* op = onnx_name_of(n.op);
  if (n.op == OpKind::square) {
    in.push_back(in.front());
    op = "Mul";
  } else if (n.op == OpKind::leaky_relu) {
    op = "LeakyRelu";
  } else if (n.op == OpKind::softmax) {
    op = "Softmax";  // dagrad's column-wise softmax: over the units of each sample
  }
  tensor_[id] = name_for(id);
  ox::NodeProto* node = add_node(op, std::move(in), tensor_[id]);
  if (n.op == OpKind::leaky_relu) {
    ox::AttributeProto* alpha = node->add_attribute();
    alpha->set_name("alpha");
    alpha->set_type(ox::AttributeProto::FLOAT);
    alpha->set_f(static_cast<float>(n.attr<SlopeAttrs>().slope));
  } else if (n.op == OpKind::softmax) {
    ox::AttributeProto* axis = node->add_attribute();
    axis->set_name("axis");
    axis->set_type(ox::AttributeProto::INT);
    axis->set_i(1);
  }
}

// Each output under its node's name; an Identity where the tensor has
// another name (a dropout's input, an output listed twice).
void Exporter::emit_outputs() {
  std::set<std::string> done;
  for (Expr o : model_.outputs()) {
    std::string name = tensor_[o.id];
    const bool is_input = o.node().op == OpKind::input;
    if (name != o.name() || is_input || done.contains(name)) {
      const std::string out = fresh(o.name().empty() ? "output" : o.name());
      add_node("Identity", {name}, out);
      if (out == o.name()) kept_.push_back(out);
      name = out;
    }
    done.insert(name);
    add_value_info(graph_->add_output(), name, o.shape().rows);
  }
}

ox::ModelProto Exporter::run() {
  mark_needed();
  const std::vector<Expr> outs = model_.outputs();
  std::vector<NodeId> out_ids;
  for (Expr o : outs) out_ids.push_back(o.id);
  std::vector<NodeId> order = g_.schedule(out_ids);
  std::erase_if(order, [&](NodeId id) { return !needed_[id]; });
  sample_.assign(g_.size(), 0);
  form_.assign(g_.size(), Form::none);
  gemm_bias_.assign(g_.size(), std::nullopt);
  fused_.assign(g_.size(), 0);
  tensor_.assign(g_.size(), {});
  for (NodeId id : order)  // the op first: a cost read by the output is named for its op
    if (const Node& n = g_.node(id); n.op != OpKind::input && !is_leaf(n) && !exportable(n.op))
      refuse(id, "has no ONNX form in dagrad's export");
  for (NodeId id : order) check_node(id);
  for (Expr o : outs)
    if (!sample_[o.id]) refuse(o.id, "is an output without the samples as columns");
  for (NodeId id : order) plan_gemm_bias(id);

  proto_.set_ir_version(ir_version);
  proto_.set_producer_name("dagrad");
  proto_.set_producer_version(DAGRAD_VERSION);
  ox::OperatorSetIdProto* opset = proto_.add_opset_import();
  opset->set_domain("");
  opset->set_version(onnx_export_opset);
  graph_ = proto_.mutable_graph();
  graph_->set_name("dagrad");
  graph_->set_doc_string("the inference graph of a dagrad model: samples as rows [batch, features]");
  for (NodeId id : order) emit(id);
  emit_outputs();
  ox::StringStringEntryProto* names = proto_.add_metadata_props();
  names->set_key(std::string(onnx_names_key));
  names->set_value(nlohmann::json(kept_).dump());
  return std::move(proto_);
}

// onnx.checker.check_model(full_check=True) in C++: the checker, then shape
// inference with type checks in strict mode. The inferred shapes stay in
// the file (value_info), so Netron shows every tensor's shape.
void check_full(ox::ModelProto& proto) {
  try {
    ox::checker::check_model(proto);
    ox::shape_inference::InferShapes(proto, ox::OpSchemaRegistry::Instance(),
                                     ox::ShapeInferenceOptions(true, 1));
  } catch (const std::exception& e) {
    throw GraphError(fmt::format("export_onnx: onnx::checker refuses the exported graph: {}", e.what()));
  }
}

}  // namespace

std::vector<std::uint8_t> onnx_bytes(const Model& model) {
  ox::ModelProto proto = Exporter(model).run();
  check_full(proto);
  std::string bytes;
  if (!proto.SerializeToString(&bytes))
    throw GraphError("export_onnx: protobuf could not serialize the model (over 2 GB?)");
  return {bytes.begin(), bytes.end()};
}

void export_onnx(const Model& model, const std::filesystem::path& path) {
  io::AtomicFile file(path);  // an unwritable directory fails before any work
  file.write(onnx_bytes(model));
  file.commit();
}

}  // namespace dagrad::models
