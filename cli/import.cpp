// dagrad import: an ONNX feed-forward network (PyTorch's torch.onnx.export,
// or dagrad export) as a dagrad model file, which predict, eval, gradcheck,
// dot, explain and train --resume then take like any other.
//   dagrad import mlp.onnx -o mlp.dagrad
// The cost follows the output: sigmoid gives the binary cross-entropy,
// softmax the cross-entropy, anything else the squared error.
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/outputs.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/models/onnx.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::cli {

namespace {

struct ImportArgs {
  std::string input, output, dtype;
};

std::string_view cost_name(const models::Model& m) {
  switch (m.task()) {
    case models::Task::binary: return "binary cross-entropy";
    case models::Task::categorical: return "cross-entropy";
    default: return "squared error";
  }
}

int run_import(const ImportArgs& a) {
  if (!a.output.ends_with(".dagrad"))
    throw InputError(fmt::format("-o {}: give FILE.dagrad", a.output));
  // A bad output path, or one that is the ONNX file, fails before any work.
  OutputSet().input("the ONNX file", a.input).output("-o", a.output).check();
  models::OnnxImportOptions options;
  if (!a.dtype.empty()) options.dtype = a.dtype == "f32" ? DType::f32 : DType::f64;
  const models::Model model = models::import_onnx(a.input, options);
  models::save_model(model, a.output);
  std::vector<std::string> params;
  for (Expr p : model.params()) params.push_back(fmt::format("{} {}", p.name(), to_string(p.shape())));
  const Expr out = model.output();
  fmt::print("Imported {}: {}, input {} [batch, {}]{}, output {} [batch, {}] ({}), cost {} ({})\n"
             "Parameters: {}\nWrote {}\n",
             a.input, dtype_name(model.dtype()), model.features().name(),
             model.features().shape().rows, model.normalization ? " (normalized in the model)" : "",
             out.name(), out.shape().rows, ops::op_def(out.node().op).name, model.cost().name(),
             cost_name(model), params.empty() ? "none" : fmt::format("{}", fmt::join(params, ", ")),
             a.output);
  return 0;
}

}  // namespace

void add_import(CLI::App& app, Commands& out) {
  auto a = std::make_shared<ImportArgs>();
  CLI::App* c = app.add_subcommand("import", "read an ONNX feed-forward network into a model file");
  c->add_option("onnx", a->input, "the ONNX model (FILE.onnx)")->required();
  c->add_option("-o,--out", a->output, "the model file to write (FILE.dagrad)")->required();
  c->add_option("--dtype", a->dtype, "convert the weights (default: the file's type)")
      ->check(CLI::IsMember({"f32", "f64"}));
  out.push_back({c, [a] { return run_import(*a); }});
}

}  // namespace dagrad::cli
