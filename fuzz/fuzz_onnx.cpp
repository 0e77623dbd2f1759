// libFuzzer target: any bytes as an ONNX file. Every malformed file must
// end in a dagrad::Error naming the file; a file that imports is a model
// that exports (through libonnx's full check) and imports again to a model
// with the same normalization and the same outputs, bit for bit.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/onnx.hpp"
#include "dagrad/runtime/executor.hpp"

namespace {

using namespace dagrad;

// The output for a few fixed samples: the model's graph run as it is, in
// inference, the features fed as given (both models share their
// normalization, compared apart).
std::vector<std::uint8_t> outputs_of(models::Model& m) {
  const Graph& g = m.graph();
  const Expr out = m.output();
  runtime::Executor exec(g, {out.id});
  for (NodeId id : exec.schedule())
    if (g.node(id).op == OpKind::param) exec.bind(id, m.value(g.node(id).name));
  runtime::Tensor X(m.dtype(), {m.features().shape().rows, 3});
  for (std::int64_t i = 0; i < X.size(); ++i) X.set(i, 0.25 * static_cast<double>(i % 7) - 0.5);
  exec.bind(m.features().id, X);
  exec.run({.training = false});
  const ops::Buffer b = exec.value(out.id);
  const auto* p = static_cast<const std::uint8_t*>(b.data);
  return {p, p + b.shape.size() * static_cast<std::int64_t>(dtype_size(m.dtype()))};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  models::Model m;
  try {
    m = models::import_onnx_bytes({data, size}, "fuzz.onnx");
  } catch (const Error&) {
    return 0;
  }
  // NOTE: anything thrown from here on is a bug, and libFuzzer reports it.
  models::Model again = models::import_onnx_bytes(models::onnx_bytes(m), "again.onnx");
  if (m.normalization.has_value() != again.normalization.has_value()) std::abort();
  if (m.normalization && (m.normalization->mu != again.normalization->mu ||
                          m.normalization->sigma != again.normalization->sigma))
    std::abort();
  // A wide input would only cost time (the values are the file's dims).
  if (m.features().shape().rows > 4096) return 0;
  if (outputs_of(m) != outputs_of(again)) std::abort();
  return 0;
}
