// dagrad export: a saved model as ONNX, for onnxruntime, OpenCV's dnn,
// TensorRT or Netron.
//   dagrad export --model flower.dagrad -o flower.onnx
// The file takes raw features as rows, [batch, n_x] (the model's
// normalization is in the graph), and gives the model's outputs as rows.
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/model_spec.hpp"
#include "cli/outputs.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/models/onnx.hpp"

namespace dagrad::cli {

namespace {

struct ExportArgs {
  ModelSource source;
  std::string output;
};

int run_export(const ExportArgs& a) {
  if (!a.output.ends_with(".onnx"))
    throw InputError(fmt::format("-o {}: give FILE.onnx", a.output));
  OutputSet().input("--model", a.source.model).output("-o", a.output).check();
  io::AtomicFile out(a.output);  // a bad output path fails before any work
  const models::Model model = make_model(a.source);
  const std::vector<std::uint8_t> bytes = models::onnx_bytes(model);
  out.write(bytes);
  out.commit();
  std::vector<std::string> outs;
  for (Expr o : model.outputs()) outs.push_back(fmt::format("{} [batch, {}]", o.name(), o.shape().rows));
  fmt::print("Wrote {}: ONNX opset {}, {}, input {} [batch, {}]{}, output {}, {} bytes\n", a.output,
             models::onnx_export_opset, dtype_name(model.dtype()), model.features().name(),
             model.features().shape().rows, model.normalization ? " (normalized in the graph)" : "",
             fmt::join(outs, ", "), bytes.size());
  return 0;
}

}  // namespace

void add_export(CLI::App& app, Commands& out) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* c = app.add_subcommand("export", "write a saved model's inference graph as ONNX (opset 13)");
  add_model_file(c, a->source, "--model", "a model saved by dagrad train --save FILE.dagrad", false);
  c->add_option("-o,--out", a->output, "the ONNX file to write (FILE.onnx)")->required();
  out.push_back({c, [a] { return run_export(*a); }});
}

}  // namespace dagrad::cli
