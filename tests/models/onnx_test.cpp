// ONNX export and import (models/onnx.hpp): the exported graph is the
// notes' graph and passes libonnx's full check; it computes what dagrad
// predicts (an evaluation of the file written from the ONNX specs); export
// then import predicts the same bits; what ONNX or the import cannot express
// is refused naming the node and op; damaged files are input errors.
#include <catch2/catch.hpp>

#include "dagrad/models/onnx.hpp"
#include "tests/support/dependency.hpp"

#if DAGRAD_TEST_ONNX

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/train/fit.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/models/onnx_eval.hpp"
#include "tests/train/train_test_util.hpp"

using namespace dagrad;

namespace {

// The notes' 2-3-1 network, untrained.
models::ModelSpec small_spec() {
  models::ModelSpec s;
  s.layers = {2, 3, 1};
  return s;
}

train::FitOptions short_fit(bool normalize = false) {
  train::FitOptions o;
  o.iterations = 30;
  o.optimizer.learning_rate = 0.1;
  o.normalize = normalize;
  o.out = nullptr;
  return o;
}

// The notes' MLP trained a few steps on tiny moons (so its weights are not
// the initializer's), with outputs of every kind.
models::Model trained_mlp(models::Activation hidden, models::Output output, DType dtype,
                          bool normalize = false, std::vector<std::int64_t> layers = {2, 5, 3, 0}) {
  models::ModelSpec s;
  layers.back() = output == models::Output::softmax ? 2 : 1;
  s.layers = layers;
  s.hidden = hidden;
  s.output = output;
  s.leaky_slope = 0.2;
  models::Model m = models::build_mlp(s, dtype);
  train::fit(m, test::tiny_moons(40), nullptr, short_fit(normalize));
  return m;
}

// Features the training never saw, negative and positive, far and near.
io::Matrix probe(std::int64_t n_x, std::int64_t m) {
  io::Matrix X({n_x, m});
  for (std::int64_t i = 0; i < n_x * m; ++i)
    X.values[static_cast<std::size_t>(i)] = 3.0 * std::sin(0.7 * static_cast<double>(i) + 0.3);
  return X;
}

onnx::ModelProto parse(const std::vector<std::uint8_t>& bytes) {
  onnx::ModelProto p;
  REQUIRE(p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  return p;
}

std::vector<std::uint8_t> serialize(const onnx::ModelProto& p) {
  std::string s;
  REQUIRE(p.SerializeToString(&s));
  return {s.begin(), s.end()};
}

std::vector<std::string> op_types(const onnx::ModelProto& p) {
  std::vector<std::string> out;
  for (const auto& n : p.graph().node()) out.push_back(n.op_type());
  return out;
}

std::vector<std::string> node_outputs(const onnx::ModelProto& p) {
  std::vector<std::string> out;
  for (const auto& n : p.graph().node()) out.push_back(n.output(0));
  return out;
}

// max |a - b| / max |b|: the relative difference of the whole prediction.
double max_rel(const io::Matrix& a, const io::Matrix& b) {
  REQUIRE(a.shape == b.shape);
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    diff = std::max(diff, std::abs(a.values[i] - b.values[i]));
    scale = std::max(scale, std::abs(b.values[i]));
  }
  return diff / scale;
}

models::Model round_trip(const models::Model& m) {
  return models::import_onnx_bytes(models::onnx_bytes(m), "round-trip.onnx");
}

// fn(model, dtype, hidden, normalized) for the trained MLP of every dtype,
// hidden activation, output and normalization: 48 models.
template <class F>
void for_each_mlp(F fn) {
  using models::Activation, models::Output;
  for (DType dtype : {DType::f64, DType::f32})
    for (Activation h : {Activation::relu, Activation::tanh, Activation::leaky_relu, Activation::sigmoid})
      for (Output o : {Output::sigmoid, Output::softmax, Output::linear})
        for (bool normalize : {false, true}) {
          INFO(dtype_name(dtype) << " " << models::name_of(h) << " " << models::name_of(o)
                                 << (normalize ? " normalized" : ""));
          models::Model m = trained_mlp(h, o, dtype, normalize);
          fn(m, dtype, h, o, normalize);
        }
}

// X (n x m) as the file takes it, samples as rows; and back.
test::OnnxValue rows_of(const io::Matrix& X) {
  test::OnnxValue rows{X.cols(), X.rows(), {}};
  for (std::int64_t i = 0; i < X.cols(); ++i)
    for (std::int64_t j = 0; j < X.rows(); ++j) rows.v.push_back(X(j, i));
  return rows;
}

io::Matrix columns_of(const test::OnnxValue& Y) {
  io::Matrix out({Y.cols, Y.rows});
  for (std::int64_t i = 0; i < Y.rows; ++i)
    for (std::int64_t k = 0; k < Y.cols; ++k) out(k, i) = Y.at(i, k);
  return out;
}

}  // namespace

TEST_CASE("an exported MLP is the notes' graph in Gemm form, named W1, b1, Z1, A1", "[onnx]") {
  const models::Model m = trained_mlp(models::Activation::tanh, models::Output::sigmoid, DType::f64);
  onnx::ModelProto p = parse(models::onnx_bytes(m));
  CHECK(p.opset_import(0).version() == 13);
  CHECK(p.producer_name() == "dagrad");
  CHECK(op_types(p) == std::vector<std::string>{"Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Sigmoid"});
  CHECK(node_outputs(p) == std::vector<std::string>{"Z1", "A1", "Z2", "A2", "Z3", "A3"});
  for (const auto& n : p.graph().node())
    if (n.op_type() == "Gemm") CHECK(test::onnx_attr(n, "transB", 0) == 1);
  std::vector<std::string> inits;
  for (const auto& t : p.graph().initializer()) inits.push_back(t.name());
  CHECK(inits == std::vector<std::string>{"W1", "b1", "W2", "b2", "W3", "b3"});
  const auto& W1 = p.graph().initializer(0);
  CHECK(W1.dims_size() == 2);
  CHECK(W1.dims(0) == 5);
  CHECK(W1.dims(1) == 2);
  CHECK(W1.data_type() == onnx::TensorProto::DOUBLE);
  CHECK(p.graph().initializer(1).dims_size() == 1);  // b1 as [5]
  // Samples as rows, the batch symbolic.
  const auto& in = p.graph().input(0);
  CHECK(in.name() == "X");
  CHECK(in.type().tensor_type().shape().dim(0).dim_param() == "batch");
  CHECK(in.type().tensor_type().shape().dim(1).dim_value() == 2);
  CHECK(p.graph().output(0).name() == "A3");
  // libonnx's full check, run here on the bytes: checker, then strict shape
  // inference with type checks; the inferred shapes are in the file.
  CHECK_NOTHROW(onnx::checker::check_model(p));
  CHECK_NOTHROW(onnx::shape_inference::InferShapes(p, onnx::OpSchemaRegistry::Instance(),
                                                    onnx::ShapeInferenceOptions(true, 1)));
  CHECK(p.graph().value_info_size() >= 5);
}

TEST_CASE("the exported graph computes what dagrad predicts, evaluated from the ONNX specs", "[onnx]") {
  const io::Matrix X = probe(2, 13);
  for_each_mlp([&](models::Model& m, DType dtype, models::Activation h, models::Output, bool) {
    const io::Matrix P = train::predict(m, X);  // (units x m)
    const io::Matrix Y = columns_of(test::onnx_evaluate(parse(models::onnx_bytes(m)), rows_of(X)));
    // NOTE: LeakyRelu's alpha is a float attribute: 0.2f differs from
    // dagrad's slope 0.2 by 1.5e-9 relative.
    const double tol = dtype == DType::f32 ? 1e-5 : h == models::Activation::leaky_relu ? 1e-8 : 1e-12;
    CHECK(max_rel(Y, P) < tol);
  });
}

TEST_CASE("export then import predicts the same: bit for bit, 1e-6 in f32 with normalization", "[onnx]") {
  const io::Matrix X = probe(2, 17);
  for_each_mlp([&](models::Model& m, DType dtype, models::Activation, models::Output o, bool normalize) {
    models::Model back = round_trip(m);
    CHECK(back.dtype() == dtype);
    CHECK(back.output().name() == (o == models::Output::linear ? "Z3" : "A3"));
    CHECK(back.task() == m.task());
    std::vector<std::string> names;
    for (Expr p : back.params()) names.push_back(p.name());
    CHECK(names == std::vector<std::string>{"W1", "b1", "W2", "b2", "W3", "b3"});
    for (const std::string& n : names) CHECK(back.value(n).to_matrix() == m.value(n).to_matrix());
    REQUIRE(back.normalization.has_value() == normalize);
    const io::Matrix P = train::predict(m, X), Q = train::predict(back, X);
    // The normalization's mu and sigma pass through the file in the
    // model's type; every weight passes exactly.
    if (dtype == DType::f64 || !normalize) CHECK(Q == P);
    else CHECK(max_rel(Q, P) < 1e-6);
  });
}

namespace {

// A model written with the DSL, not the MLP builder: a residual connection
// (Add of two values), scalar arithmetic (affine), a learned element-wise
// scale, exp/log/sqrt, a bias-free product, a constant, dropout.
models::Model residual_model(DType dtype) {
  models::Model model(dtype);
  Graph& g = model.graph();
  Expr X = g.input("X", {3, m_dim}), Y = g.input("Y", {1, m_dim});
  Expr W1 = g.param("W1", {4, 3}), b1 = g.param("b1", {4, 1});
  Expr W2 = g.param("W2", {4, 4}), gamma = g.param("gamma", {4, 1});
  Expr W3 = g.param("W3", {1, 4}), b3 = g.param("b3", {1, 1});
  Expr A1 = relu(W1 * X + b1).named("A1");
  Expr D1 = dropout(A1, 0.8, 7).named("A1_drop");
  Expr R = (tanh(W2 * D1) + A1).named("R");                    // residual
  Expr S = (0.5 * mul(R, gamma) + 1.0).named("S");             // affine over a learned scale
  Expr T = (log(exp(S) + g.constant(1.0, {4, m_dim})) / sqrt(square(S) + 2.0)).named("T");
  Expr A3 = sigmoid(W3 * T + b3).named("A3");
  model.set_cost(binary_cross_entropy(A3, Y).named("J"));
  model.set_output(A3);
  model.set_init(models::Init::xavier);
  return model;
}

}  // namespace

TEST_CASE("a residual DSL model with scalar arithmetic exports, evaluates and round-trips", "[onnx]") {
  for (DType dtype : {DType::f64, DType::f32}) {
    INFO(dtype_name(dtype));
    models::Model m = residual_model(dtype);
    io::Dataset data = test::tiny_moons(30);
    data.X = probe(3, 30);
    train::fit(m, data, nullptr, short_fit());
    const onnx::ModelProto p = parse(models::onnx_bytes(m));
    const auto ops = op_types(p);
    CHECK(std::count(ops.begin(), ops.end(), "Gemm") == 3);
    CHECK(std::count(ops.begin(), ops.end(), "Dropout") == 0);  // the identity in inference
    const io::Matrix X = probe(3, 11);
    const io::Matrix P = train::predict(m, X);
    CHECK(max_rel(columns_of(test::onnx_evaluate(p, rows_of(X))), P) < (dtype == DType::f64 ? 1e-12 : 1e-5));
    models::Model back = round_trip(m);
    CHECK(train::predict(back, X) == P);
    CHECK(back.graph().find("R").has_value());  // dagrad's names come back
    CHECK(back.graph().find("gamma").has_value());
    CHECK(back.params().size() == 6);
  }
}

TEST_CASE("W A (1 x m) + b (k x 1), dagrad's outer sum, exports as Gemm then Add", "[onnx]") {
  models::Model m(DType::f64);
  Graph& g = m.graph();
  Expr X = g.input("X", {2, m_dim}), W = g.param("W", {1, 2}), b = g.param("b", {3, 1});
  m.set_output(tanh(W * X + b).named("A"));
  m.set_cost(sum(m.output()).named("J"));
  m.set_value("W", runtime::Tensor::from_matrix(io::Matrix({1, 2}, 0.5), DType::f64));
  io::Matrix bias({3, 1});
  bias.values = {-1, 0, 2};
  m.set_value("b", runtime::Tensor::from_matrix(bias, DType::f64));
  const onnx::ModelProto p = parse(models::onnx_bytes(m));
  CHECK(op_types(p) == std::vector<std::string>{"Gemm", "Add", "Tanh"});
  const io::Matrix X5 = probe(2, 5), P = train::predict(m, X5);
  CHECK(P.shape == Shape{3, 5});
  CHECK(max_rel(columns_of(test::onnx_evaluate(p, rows_of(X5))), P) < 1e-12);
  models::Model back = round_trip(m);
  CHECK(train::predict(back, X5) == P);
}

TEST_CASE("an imported model trains like any other: the cost falls", "[onnx]") {
  models::Model m = trained_mlp(models::Activation::relu, models::Output::sigmoid, DType::f64);
  models::Model back = round_trip(m);
  CHECK(back.cost().node().op == OpKind::bce_logits);  // sigmoid output: binary cross-entropy
  train::FitOptions o = short_fit();
  o.iterations = 200;
  const train::FitResult r = train::fit(back, test::tiny_moons(40), nullptr, o);
  REQUIRE(r.costs.size() == 200);
  CHECK(r.costs.back() < 0.9 * r.costs.front());
  // softmax: cross-entropy; linear: the squared error.
  CHECK(round_trip(trained_mlp(models::Activation::tanh, models::Output::softmax, DType::f64))
            .cost().node().op == OpKind::softmax_ce);
  CHECK(round_trip(trained_mlp(models::Activation::tanh, models::Output::linear, DType::f64))
            .cost().node().op == OpKind::mse);
}

TEST_CASE("export refuses what ONNX or the export cannot express, naming node and op", "[onnx]") {
  auto refusal = [](models::Model& m) {
    m.init_params(1);
    try {
      models::onnx_bytes(m);
    } catch (const GraphError& e) {
      return std::string(e.what());
    }
    FAIL("no GraphError");
    return std::string();
  };
  {  // a cost as the output
    models::Model m = models::build_mlp(small_spec(), DType::f64);
    m.set_output(m.cost());
    const std::string e = refusal(m);
    CHECK_THAT(e, Catch::Contains("node J (binary_cross_entropy_logits)"));
  }
  {  // an op without an ONNX form here: relu's derivative mask
    models::Model m = models::build_mlp(small_spec(), DType::f64);
    Graph& g = m.graph();
    m.set_output(step(g.expr(*g.find("Z2"))).named("M"));
    CHECK_THAT(refusal(m), Catch::Contains("M (step)") && Catch::Contains("no ONNX form"));
  }
  {  // a reduction: no ONNX form here
    models::Model m = models::build_mlp(small_spec(), DType::f64);
    Graph& g = m.graph();
    m.set_output(mean(g.expr(*g.find("A1")), 1).named("mu1"));
    CHECK_THAT(refusal(m), Catch::Contains("mu1 (sum)"));
  }
  {  // a product over the samples has no batch dimension
    models::Model m = models::build_mlp(small_spec(), DType::f64);
    Graph& g = m.graph();
    const Expr A1 = g.expr(*g.find("A1"));
    m.set_output((A1 * transpose(A1)).named("G"));
    CHECK_THAT(refusal(m), Catch::Contains("G (matmul) is (3x3)"));
  }
  {  // a graph built for a fixed m
    models::Model m(DType::f64);
    Graph& g = m.graph();
    Expr X = g.input("X", {2, 10}), W = g.param("W", {1, 2});
    m.set_output(sigmoid(W * X).named("A"));
    m.set_cost(sum(m.output()).named("J"));
    CHECK_THAT(refusal(m), Catch::Contains("X (input)") && Catch::Contains("(2x10)"));
  }
  {  // a weight with no value yet is an input error naming it
    models::Model m = models::build_mlp(small_spec(), DType::f64);
    CHECK_THROWS_WITH(models::onnx_bytes(m), Catch::Contains("W1 has no value"));
  }
}

namespace {

// The import's error for `p`, or "" when it imports.
std::string import_error(const onnx::ModelProto& p) {
  try {
    models::import_onnx_bytes(serialize(p), "edited.onnx");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

onnx::ModelProto exported_mlp(DType dtype = DType::f32) {
  return parse(models::onnx_bytes(trained_mlp(models::Activation::relu, models::Output::sigmoid, dtype)));
}

}  // namespace

TEST_CASE("import refuses what it does not read, naming the file, the node and the op", "[onnx]") {
  const onnx::ModelProto base = exported_mlp();
  REQUIRE(import_error(base).empty());
  onnx::ModelProto p = base;
  p.mutable_graph()->mutable_node(1)->set_op_type("Conv");
  CHECK_THAT(import_error(p), Catch::Contains("edited.onnx") && Catch::Contains("node 'A1' (Conv)") &&
                                  Catch::Contains("op 'Conv' is not imported"));
  p = base;
  p.mutable_graph()->mutable_node(1)->set_domain("com.microsoft");
  CHECK_THAT(import_error(p), Catch::Contains("domain 'com.microsoft'"));
  p = base;
  auto* attr = p.mutable_graph()->mutable_node(0)->add_attribute();
  attr->set_name("bogus");
  attr->set_type(onnx::AttributeProto::INT);
  CHECK_THAT(import_error(p), Catch::Contains("node 'Z1' (Gemm): attribute 'bogus'"));
  p = base;
  p.mutable_opset_import(0)->set_version(18);
  CHECK_THAT(import_error(p), Catch::Contains("opset 18"));
  p = base;
  *p.mutable_graph()->add_output() = p.graph().output(0);
  CHECK_THAT(import_error(p), Catch::Contains("2 outputs"));
  p = base;
  *p.mutable_graph()->add_input() = p.graph().input(0);
  p.mutable_graph()->mutable_input(1)->set_name("X2");
  CHECK_THAT(import_error(p), Catch::Contains("inputs 'X' and 'X2'"));
  p = base;
  p.mutable_graph()->mutable_initializer(0)->set_float_data(3, NAN);
  CHECK_THAT(import_error(p), Catch::Contains("tensor 'W1' holds nan at index 3"));
  p = base;
  p.mutable_graph()->mutable_initializer(0)->mutable_float_data()->RemoveLast();
  CHECK_THAT(import_error(p), Catch::Contains("tensor 'W1' holds 9 values for its 10"));
  p = base;
  p.mutable_graph()->mutable_initializer(0)->set_data_location(onnx::TensorProto::EXTERNAL);
  CHECK_THAT(import_error(p), Catch::Contains("external file"));
  p = base;
  p.mutable_graph()->mutable_initializer(0)->set_dims(0, 4);  // W1 [4, 2] against 10 values
  CHECK_THAT(import_error(p), Catch::Contains("tensor 'W1' holds 10 values for its 8"));
  p = base;
  p.mutable_graph()->mutable_initializer(2)->set_dims(1, 4);  // W2 [3, 4]: 4 != the 5 units of A1
  p.mutable_graph()->mutable_initializer(2)->mutable_float_data()->Truncate(12);
  CHECK_THAT(import_error(p), Catch::Contains("node 'Z2' (Gemm)") && Catch::Contains("matmul"));
  p = base;  // Gemm's C broadcasts one way: 3 biases for 1 output (found by fuzz_onnx)
  for (float v : {0.5f, 0.25f}) p.mutable_graph()->mutable_initializer(5)->add_float_data(v);
  p.mutable_graph()->mutable_initializer(5)->set_dims(0, 3);
  CHECK_THAT(import_error(p), Catch::Contains("node 'Z3' (Gemm): the bias 'b3' has 3 values for 1 outputs"));
  p = base;
  auto* ta = p.mutable_graph()->mutable_node(0)->add_attribute();
  ta->set_name("transA");
  ta->set_type(onnx::AttributeProto::INT);
  ta->set_i(1);
  CHECK_THAT(import_error(p), Catch::Contains("transA = 1"));
  p = base;
  p.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
  CHECK_THAT(import_error(p), Catch::Contains("reads 'nowhere', which no input"));
  p = base;
  p.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::INT64);
  CHECK_THAT(import_error(p), Catch::Contains("element type 7"));
}

TEST_CASE("import reads raw_data, Constant nodes, MatMul + Add and Flatten as PyTorch writes them", "[onnx]") {
  // W1 and b1 moved to raw_data, as torch.onnx.export stores tensors.
  const onnx::ModelProto base = exported_mlp();
  onnx::ModelProto p = base;
  for (int k : {0, 1}) {
    auto* t = p.mutable_graph()->mutable_initializer(k);
    std::string raw(static_cast<std::size_t>(t->float_data_size()) * 4, '\0');
    std::memcpy(raw.data(), t->float_data().data(), raw.size());
    t->clear_float_data();
    t->set_raw_data(raw);
  }
  models::Model a = models::import_onnx_bytes(serialize(base), "a.onnx");
  models::Model b = models::import_onnx_bytes(serialize(p), "b.onnx");
  CHECK(b.value("W1").to_matrix() == a.value("W1").to_matrix());
  CHECK(b.value("b1").to_matrix() == a.value("b1").to_matrix());
  // raw_data of the wrong length is refused.
  p.mutable_graph()->mutable_initializer(0)->mutable_raw_data()->pop_back();
  CHECK_THAT(import_error(p), Catch::Contains("holds 39 bytes of data for 10 values"));

  // The first layer as MatMul by W1^T [2, 5] then Add b1, a Flatten before
  // it, the output scaled by a Constant node: names from the notes.
  p = base;
  p.clear_metadata_props();  // not dagrad's file: named like the notes
  auto* g = p.mutable_graph();
  auto* W1 = g->mutable_initializer(0);
  std::vector<float> w(W1->float_data().begin(), W1->float_data().end()), wt(10);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 2; ++c) wt[static_cast<std::size_t>(c * 5 + r)] = w[static_cast<std::size_t>(r * 2 + c)];
  W1->clear_float_data();
  for (float v : wt) W1->add_float_data(v);
  W1->set_dims(0, 2);
  W1->set_dims(1, 5);
  W1->set_name("onnx::MatMul_7");
  g->mutable_initializer(1)->set_name("fc1.bias");
  onnx::GraphProto rebuilt;
  auto node = [&](const char* op, std::vector<std::string> in, const std::string& out) {
    auto* n = rebuilt.add_node();
    n->set_op_type(op);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  };
  node("Flatten", {"X"}, "flat");
  node("MatMul", {"flat", "onnx::MatMul_7"}, "mm");
  node("Add", {"mm", "fc1.bias"}, "/fc1/Add_output_0");
  for (int k = 1; k < g->node_size(); ++k) *rebuilt.add_node() = g->node(k);
  rebuilt.mutable_node(3)->set_input(0, "/fc1/Add_output_0");
  auto* c = node("Constant", {}, "two");
  auto* value = c->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  value->mutable_t()->add_float_data(2.0f);
  const std::string last = rebuilt.node(rebuilt.node_size() - 2).output(0);
  node("Mul", {last, "two"}, "output");
  g->clear_node();
  *g->mutable_node() = rebuilt.node();
  g->mutable_output(0)->set_name("output");
  models::Model t = models::import_onnx_bytes(serialize(p), "torch-like.onnx");
  std::vector<std::string> names;
  for (Expr e : t.params()) names.push_back(e.name());
  CHECK(names == std::vector<std::string>{"W1", "b1", "W2", "b2", "W3", "b3"});
  CHECK(t.value("W1").to_matrix() == a.value("W1").to_matrix());  // stored as the notes' W (5x2)
  CHECK(t.graph().find("Z1").has_value());
  CHECK(t.graph().find("A1").has_value());
  CHECK(t.output().node().op == OpKind::affine);  // 2 * A3
  const io::Matrix X = probe(2, 9);
  io::Matrix twice = train::predict(a, X);
  for (double& v : twice.values) v *= 2;
  CHECK(max_rel(train::predict(t, X), twice) < 1e-6);
}

TEST_CASE("import follows Gemm's alpha, beta and transB = 0 as the ONNX spec defines them", "[onnx]") {
  onnx::ModelProto p = exported_mlp(DType::f64);
  auto* g = p.mutable_graph();
  auto set_f = [](onnx::NodeProto* n, const char* name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  };
  set_f(g->mutable_node(0), "alpha", 1.5f);
  set_f(g->mutable_node(2), "beta", 0.25f);
  // Z3 with W3^T [3, 1] and transB = 0.
  g->mutable_node(4)->mutable_attribute(0)->set_i(0);
  auto* W3 = g->mutable_initializer(4);
  REQUIRE(W3->name() == "W3");
  W3->set_dims(0, 3);
  W3->set_dims(1, 1);
  const io::Matrix X = probe(2, 9);
  models::Model m = models::import_onnx_bytes(serialize(p), "edited.onnx");
  CHECK(m.value("W3").shape() == Shape{1, 3});  // stored as the notes' W
  CHECK(max_rel(train::predict(m, X), columns_of(test::onnx_evaluate(p, rows_of(X)))) < 1e-12);
  // The file without the edits predicts something else: the edits are read.
  models::Model plain = models::import_onnx_bytes(models::onnx_bytes(m), "again.onnx");
  CHECK(max_rel(train::predict(plain, X), train::predict(m, X)) < 1e-12);
  CHECK(max_rel(train::predict(plain, X), columns_of(test::onnx_evaluate(exported_mlp(DType::f64), rows_of(X)))) > 1e-3);
}

TEST_CASE("a per-feature constant of Mul, Div, Pow or Sub stays fixed when the imported model is fine-tuned",
          "[onnx]") {
  models::Model a = trained_mlp(models::Activation::tanh, models::Output::sigmoid, DType::f32);
  for (const std::string op : {"Mul", "Div", "Pow", "Sub"}) {
    INFO(op);
    onnx::ModelProto p = parse(models::onnx_bytes(a));
    p.clear_metadata_props();
    auto* g = p.mutable_graph();
    // X op k, k one value per feature ([2]), before the first layer.
    for (auto& n : *g->mutable_node())
      for (auto& in : *n.mutable_input())
        if (in == "X") in = "Xk";
    auto* k = g->add_initializer();
    k->set_name("k");
    k->set_data_type(onnx::TensorProto::FLOAT);
    k->add_dims(2);
    k->add_float_data(op == "Pow" ? 1.0f : 1.5f);
    k->add_float_data(op == "Pow" ? 2.0f : 0.5f);
    onnx::GraphProto rebuilt;
    auto* first = rebuilt.add_node();
    first->set_op_type(op);
    const std::string x = "X", kname = "k", xk = "Xk";
    first->add_input(x);
    first->add_input(kname);
    first->add_output(xk);
    for (const auto& n : g->node()) *rebuilt.add_node() = n;
    *g->mutable_node() = rebuilt.node();
    models::Model m = models::import_onnx_bytes(serialize(p), "fixed.onnx");
    std::vector<std::string> names;
    for (Expr e : m.params()) names.push_back(e.name());
    CHECK(std::find(names.begin(), names.end(), "k") == names.end());
    REQUIRE(m.has_value("k"));
    const io::Matrix k_before = m.value("k").to_matrix(), w_before = m.value("W1").to_matrix();
    train::fit(m, test::tiny_moons(40), nullptr, short_fit());
    CHECK(m.value("k").to_matrix() == k_before);  // fixed in the source model, fixed here
    CHECK_FALSE(m.value("W1").to_matrix() == w_before);  // the layers did train
    const models::Model again = models::model_from_bytes(models::model_bytes(m), "fixed.dagrad");
    CHECK(again.params().size() == m.params().size());
    CHECK(again.value("k").to_matrix() == k_before);
  }
}

TEST_CASE("truncated, garbage and bit-flipped files are input errors, never crashes", "[onnx]") {
  const std::vector<std::uint8_t> good = models::onnx_bytes(
      trained_mlp(models::Activation::relu, models::Output::softmax, DType::f32, true));
  CHECK_THROWS_WITH(models::import_onnx_bytes({}, "empty.onnx"), Catch::Contains("empty.onnx"));
  const std::string text = "not an onnx file at all\n";
  CHECK_THROWS_AS(models::import_onnx_bytes({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                                            "text.onnx"), InputError);
  // Each damaged file is refused with an InputError of one line naming the
  // file, or imports a model that predicts (a flipped bit in a weight or a
  // dimension makes another model, not a broken one): one column per
  // sample, or a dagrad error, never a crash. A truncated file that still imports
  // lost only fields after the graph and predicts what the whole file does.
  models::Model whole = models::import_onnx_bytes(good, "good.onnx");
  const io::Matrix X = probe(2, 7);
  const io::Matrix want = train::predict(whole, X);
  int refused = 0, truncations_imported = 0;
  auto attempt = [&](std::span<const std::uint8_t> bytes, bool truncated) {
    std::optional<models::Model> m;
    try {
      m = models::import_onnx_bytes(bytes, "damaged.onnx");
    } catch (const InputError& e) {
      ++refused;
      const std::string what = e.what();
      INFO(what);
      CHECK(what.find("damaged.onnx") != std::string::npos);
      CHECK(what.find('\n') == std::string::npos);
      return;
    }
    if (truncated) {
      ++truncations_imported;
      CHECK(max_rel(train::predict(*m, X), want) == 0.0);
      return;
    }
    try {
      CHECK(train::predict(*m, X).cols() == X.cols());  // a flipped dimension may change the rows
    } catch (const Error&) {
    }
  };
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("the first " << n << " bytes");
    attempt({good.data(), n}, true);
  }
  // The graph is most of the file: nearly every truncation cuts it.
  CHECK(truncations_imported < static_cast<int>(good.size()) / 10);
  std::uint64_t state = 12345;
  for (int k = 0; k < 3000; ++k) {
    std::vector<std::uint8_t> bad = good;
    for (int flips = 0; flips < 1 + k % 3; ++flips) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      bad[(state >> 33) % bad.size()] ^= static_cast<std::uint8_t>(1u << ((state >> 20) % 8));
    }
    INFO("flips " << k);
    attempt(bad, false);
  }
  CHECK(refused > 3000 / 2);  // most flips land in the structure, not in a weight's bytes
}

#else

TEST_CASE("without libonnx the ONNX functions say that the build lacks them", "[onnx]") {
  CHECK_FALSE(dagrad::models::onnx_available());
  CHECK_THROWS_WITH(dagrad::models::import_onnx("x.onnx"), Catch::Contains("without ONNX"));
  dagrad::support::missing_dependency("libonnx (libonnx-dev)", "every ONNX export and import check");
}

#endif
