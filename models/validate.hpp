// A model read from a file is checked for meaning, as its graph is checked
// for shapes (graph/graph_file.hpp). Every field of model.json must say what
// the graph holds: the outputs are predictions (forward nodes that hold one
// column per sample and read the features, not the labels), the parameters
// are distinct param nodes, exactly the ones with an update when there is an
// optimizer, the optimizer's kind and settings are the ones its update nodes
// were built with, the spec builds the graph's forward pass, and the state
// holds values an optimizer can reach (t a step count, s_dW >= 0, alpha > 0).
//
//   models::validate_model(model, "flower.dagrad: model.json");   // load_model runs it
#pragma once

#include <string_view>

#include "dagrad/models/model.hpp"

namespace dagrad::models {

// The names a model file gives the input normalization's arrays: no
// parameter or state may take them.
inline constexpr std::string_view reserved_value_names[] = {"norm_mu", "norm_sigma"};

// InputError "<origin>: field '<field>' ..." at the first contradiction.
void validate_model(const Model& model, std::string_view origin);

// InputError naming the value when a parameter or state is named like the
// normalization's arrays (norm_mu, norm_sigma): the file would hold two
// arrays of one name. `who` starts the message ("save_model", a file).
void check_reserved_names(const Model& model, std::string_view who);

}  // namespace dagrad::models
