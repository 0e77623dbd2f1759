// libFuzzer target: any bytes as a model file (.dagrad: a checked zip of
// model.json, graph.json and .npy arrays). A damaged or self-contradicting
// file must end in a dagrad::Error naming the file; a file that loads saves
// to bytes that load again to the same model, and save to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dagrad;
  models::Model m;
  try {
    m = models::model_from_bytes(std::span<const std::uint8_t>(data, size), "fuzz.dagrad");
  } catch (const Error&) {
    return 0;
  }
  // NOTE: anything thrown from here on is a bug, and libFuzzer reports it.
  const std::vector<std::uint8_t> bytes = models::model_bytes(m);
  const models::Model again = models::model_from_bytes(bytes, "again.dagrad");
  if (again.steps != m.steps || again.epochs != m.epochs || again.value_names() != m.value_names() ||
      again.minimized() != m.minimized() || again.normalization.has_value() != m.normalization.has_value())
    std::abort();
  if (models::model_bytes(again) != bytes) std::abort();
  return 0;
}
