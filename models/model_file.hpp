// One file per model (docs/model_format.md): the graph (forward, backward and
// the optimizer's update nodes), the values of the parameters and of the
// optimizer state, the step and epoch counts, the seed, the input
// normalization, the initializers and, for a model built from an MLP spec,
// the spec. It is a zip archive, versioned and checksummed like the
// parameter files ("dagrad-model 1 crc32=..."), holding model.json,
// graph.json (a graph file) and one .npy per value, so numpy.load reads the
// arrays of a .dagrad file as it reads an .npz.
//
//   models::save_model(model, "flower.dagrad");
//   models::Model again = models::load_model("flower.dagrad");
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph_file.hpp"
#include "dagrad/models/model.hpp"

namespace dagrad::models {

inline constexpr int model_format_version = 1;

// The first parameter or state value that is NaN or Inf ("W1 holds nan at
// element 3"), or nullopt: such a model is not saved (NumericError).
std::optional<std::string> non_finite_value(const Model& model);
// InputError when a parameter or state takes a name reserved for the
// normalization's arrays (models/validate.hpp).
std::vector<std::uint8_t> model_bytes(const Model& model);
// Writes atomically: a crash or an error leaves any earlier file whole.
void save_model(const Model& model, const std::filesystem::path& path);

// Any defect (truncation, a changed byte, a missing or extra array, a value
// of the wrong shape, NaN or Inf, a graph that does not hold what model.json
// names) is an InputError or GraphError naming the file and what is wrong.
Model model_from_bytes(std::span<const std::uint8_t> bytes, std::string_view origin);
Model load_model(const std::filesystem::path& path);

// A model from a graph file (dagrad::save, docs/graph_format.md) built in
// C++: the cost, outputs and parameters its "model" section names, else the
// node named J, the prediction (the forward node A<L> with the largest L,
// else the activation the cost is computed from) and every param node J
// depends on. The features and labels are the inputs named X and Y. A graph
// that already holds an optimizer's updates is refused: such a model is
// saved with save_model.
Model model_from_graph(GraphFile file, std::string_view origin);
Model load_graph_model(const std::filesystem::path& path);

}  // namespace dagrad::models
