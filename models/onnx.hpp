// ONNX in and out, through Debian's libonnx (its protobuf classes and its
// checker). The exported file is the model's inference graph as deployment
// runtimes (onnxruntime, OpenCV dnn, TensorRT) and Netron read it:
//
//   X [batch, n_x] raw features -> Sub mu, Div sigma (the normalization)
//     -> Z1 = Gemm(X, W1, b1, transB=1) -> A1 = Relu(Z1) -> ... -> A[L]
//
// dagrad computes with samples as columns, V (n x m); ONNX holds V^T
// [batch, n], samples as rows. Z = W A + b is Z^T = A^T W^T + b^T, which is
// Gemm with transB = 1 and W's initializer as it is. Opset 13; dropout is
// the identity; names are the graph's (W1, b1, Z1, A1, ...).
//
//   models::export_onnx(model, "flower.onnx");
//   models::Model again = models::import_onnx("flower.onnx");   // or PyTorch's
//
// Import reads feed-forward networks as torch.onnx.export writes them
// (opsets 9 to 17): Gemm, MatMul + Add, Relu, LeakyRelu, Tanh, Sigmoid,
// Softmax, Flatten, Identity, Dropout, element-wise arithmetic with
// constants, initializers and Constant nodes. The result is an ordinary
// model: its cost follows the output (sigmoid: binary cross-entropy,
// softmax: cross-entropy, else the squared error) and every weight and bias
// is a parameter, so it predicts, evaluates, differentiates and fine-tunes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dagrad/models/model.hpp"

namespace dagrad::models {

// Whether this build has ONNX (libonnx-dev). Without it the functions below
// throw an InputError that says so.
bool onnx_available();

inline constexpr int onnx_export_opset = 13;
// The opsets import reads (the default domain's version in the file).
inline constexpr int onnx_min_opset = 9, onnx_max_opset = 17;
// A metadata entry of exported files: the JSON list of tensors that carry
// their dagrad node's name. Import keeps those names; a file from elsewhere
// is named like the notes (W1, b1, Z1, A1, ... in layer order).
inline constexpr std::string_view onnx_names_key = "dagrad.names";

// The model's outputs as an ONNX model, checked by onnx::checker with the
// full check (strict shape inference with type checks) before it is
// returned. A node with no ONNX form (a cost, a value without the sample
// dimension, a second input) is a GraphError naming the node and its op; a
// parameter without a value is an InputError.
std::vector<std::uint8_t> onnx_bytes(const Model& model);
// Writes atomically: an error leaves any earlier file whole.
void export_onnx(const Model& model, const std::filesystem::path& path);

struct OnnxImportOptions {
  std::optional<DType> dtype;  // convert the weights; default: the input's type
};

// Any defect (bytes that are no ONNX model, truncation, an op dagrad does not
// import, a tensor whose data does not match its dims, NaN weights) is an
// InputError naming `origin` and, for a node, its name and op type.
Model import_onnx_bytes(std::span<const std::uint8_t> bytes, std::string_view origin,
                        const OnnxImportOptions& options = {});
Model import_onnx(const std::filesystem::path& path, const OnnxImportOptions& options = {});

}  // namespace dagrad::models
