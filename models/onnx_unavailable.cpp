// models/onnx.hpp in a build without libonnx (DAGRAD_WITH_ONNX off): every
// call says so. CMake compiles this file instead of onnx_export.cpp and
// onnx_import.cpp.
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/onnx.hpp"

namespace dagrad::models {

namespace {

[[noreturn]] void unavailable(std::string_view what) {
  throw InputError(fmt::format("{}: this dagrad was built without ONNX support (install libonnx-dev "
                               "and libprotobuf-dev, then configure again)", what));
}

}  // namespace

bool onnx_available() { return false; }

std::vector<std::uint8_t> onnx_bytes(const Model&) { unavailable("export_onnx"); }

void export_onnx(const Model&, const std::filesystem::path&) { unavailable("export_onnx"); }

Model import_onnx_bytes(std::span<const std::uint8_t>, std::string_view origin,
                        const OnnxImportOptions&) {
  unavailable(fmt::format("import_onnx {}", origin));
}

Model import_onnx(const std::filesystem::path& path, const OnnxImportOptions&) {
  unavailable(fmt::format("import_onnx {}", path.string()));
}

}  // namespace dagrad::models
