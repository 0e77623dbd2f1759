// An evaluation of an ONNX graph in double precision, written for the tests
// from the ONNX operator specs alone: it shares no code with dagrad's export
// or import, so agreement with dagrad's predict checks the export's meaning.
// It knows the ops dagrad writes (Gemm, element-wise arithmetic with numpy
// broadcasting, the activations, Softmax, Identity) on tensors of rank <= 2.
#pragma once

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace dagrad::test {

// A tensor of rank <= 2 as (rows x cols): [k] is (1 x k), a scalar (1 x 1).
struct OnnxValue {
  std::int64_t rows = 1, cols = 1;
  std::vector<double> v;
  double at(std::int64_t r, std::int64_t c) const {
    return v[static_cast<std::size_t>((rows == 1 ? 0 : r) * cols + (cols == 1 ? 0 : c))];
  }
};

inline OnnxValue onnx_initializer(const onnx::TensorProto& t) {
  OnnxValue out;
  if (t.dims_size() == 2) out.rows = t.dims(0), out.cols = t.dims(1);
  if (t.dims_size() == 1) out.cols = t.dims(0);
  if (t.data_type() == onnx::TensorProto::FLOAT) out.v.assign(t.float_data().begin(), t.float_data().end());
  else out.v.assign(t.double_data().begin(), t.double_data().end());
  return out;
}

inline double onnx_attr(const onnx::NodeProto& n, const std::string& name, double fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.type() == onnx::AttributeProto::FLOAT ? a.f() : static_cast<double>(a.i());
  return fallback;
}

// Element-wise with numpy's broadcasting of the two operands.
template <class F>
OnnxValue onnx_broadcast(const OnnxValue& a, const OnnxValue& b, F f) {
  OnnxValue out{std::max(a.rows, b.rows), std::max(a.cols, b.cols), {}};
  for (std::int64_t r = 0; r < out.rows; ++r)
    for (std::int64_t c = 0; c < out.cols; ++c) out.v.push_back(f(a.at(r, c), b.at(r, c)));
  return out;
}

template <class F>
OnnxValue onnx_map(const OnnxValue& a, F f) {
  OnnxValue out = a;
  for (double& x : out.v) x = f(x);
  return out;
}

// Y = alpha A B' + beta C, A [N, k] not transposed.
inline OnnxValue onnx_gemm(const onnx::NodeProto& n, const OnnxValue& A, const OnnxValue& B,
                           const OnnxValue* C) {
  const bool tb = onnx_attr(n, "transB", 0) != 0;
  const double alpha = onnx_attr(n, "alpha", 1), beta = onnx_attr(n, "beta", 1);
  const std::int64_t out_cols = tb ? B.rows : B.cols;
  OnnxValue Y{A.rows, out_cols, {}};
  for (std::int64_t i = 0; i < A.rows; ++i)
    for (std::int64_t j = 0; j < out_cols; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < A.cols; ++k) s += A.at(i, k) * (tb ? B.at(j, k) : B.at(k, j));
      Y.v.push_back(alpha * s + (C ? beta * C->at(i, j) : 0.0));
    }
  return Y;
}

inline OnnxValue onnx_softmax_rows(const OnnxValue& a) {
  OnnxValue out = a;
  for (std::int64_t r = 0; r < a.rows; ++r) {
    double mx = -INFINITY, s = 0;
    for (std::int64_t c = 0; c < a.cols; ++c) mx = std::max(mx, a.at(r, c));
    for (std::int64_t c = 0; c < a.cols; ++c) s += std::exp(a.at(r, c) - mx);
    for (std::int64_t c = 0; c < a.cols; ++c)
      out.v[static_cast<std::size_t>(r * a.cols + c)] = std::exp(a.at(r, c) - mx) / s;
  }
  return out;
}

// The graph's first output for `input` ([N, n_x], samples as rows).
inline OnnxValue onnx_evaluate(const onnx::ModelProto& m, const OnnxValue& input) {
  std::map<std::string, OnnxValue> t;
  for (const auto& init : m.graph().initializer()) t[init.name()] = onnx_initializer(init);
  t[m.graph().input(0).name()] = input;
  for (const auto& n : m.graph().node()) {
    const OnnxValue& a = t.at(n.input(0));
    const std::string& op = n.op_type();
    OnnxValue y;
    if (op == "Gemm") y = onnx_gemm(n, a, t.at(n.input(1)), n.input_size() > 2 ? &t.at(n.input(2)) : nullptr);
    else if (op == "Add") y = onnx_broadcast(a, t.at(n.input(1)), [](double p, double q) { return p + q; });
    else if (op == "Sub") y = onnx_broadcast(a, t.at(n.input(1)), [](double p, double q) { return p - q; });
    else if (op == "Mul") y = onnx_broadcast(a, t.at(n.input(1)), [](double p, double q) { return p * q; });
    else if (op == "Div") y = onnx_broadcast(a, t.at(n.input(1)), [](double p, double q) { return p / q; });
    else if (op == "Pow") y = onnx_broadcast(a, t.at(n.input(1)), [](double p, double q) { return std::pow(p, q); });
    else if (op == "Relu") y = onnx_map(a, [](double x) { return x > 0 ? x : 0.0; });
    else if (op == "Tanh") y = onnx_map(a, [](double x) { return std::tanh(x); });
    else if (op == "Sigmoid") y = onnx_map(a, [](double x) { return 1 / (1 + std::exp(-x)); });
    else if (op == "Exp") y = onnx_map(a, [](double x) { return std::exp(x); });
    else if (op == "Log") y = onnx_map(a, [](double x) { return std::log(x); });
    else if (op == "Sqrt") y = onnx_map(a, [](double x) { return std::sqrt(x); });
    else if (op == "Neg") y = onnx_map(a, [](double x) { return -x; });
    else if (op == "Identity") y = a;
    else if (op == "LeakyRelu") {
      const double alpha = onnx_attr(n, "alpha", 0.01);
      y = onnx_map(a, [alpha](double x) { return x > 0 ? x : alpha * x; });
    } else if (op == "Softmax" && onnx_attr(n, "axis", -1) == 1) y = onnx_softmax_rows(a);
    else throw std::runtime_error("onnx_evaluate: no rule for " + op);
    t[n.output(0)] = std::move(y);
  }
  return t.at(m.graph().output(0).name());
}

}  // namespace dagrad::test
