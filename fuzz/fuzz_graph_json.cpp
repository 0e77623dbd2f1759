// libFuzzer target: any bytes as a graph file. Every malformed file must end
// in a dagrad::Error (InputError, GraphError, ShapeError) naming the file;
// a file that loads must save and load again to the same text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const dagrad::Graph g = dagrad::graph_from_json(text, "fuzz.json");
    const std::string once = dagrad::to_json(g);
    if (dagrad::to_json(dagrad::graph_from_json(once, "fuzz.json")) != once) std::abort();
  } catch (const dagrad::Error&) {
  }
  return 0;
}
