// A model's parameters as a parameter file's named arrays (io/params.hpp):
// the .npz that `--save P.npz` writes, numpy reads, and `--init-from`,
// `eval --params` and `gradcheck --params` read back.
#pragma once

#include <string_view>

#include "dagrad/io/params.hpp"
#include "dagrad/models/model.hpp"

namespace dagrad::train {

// Every parameter's value (W1, b1, ...), then norm_mu / norm_sigma when the
// model normalizes its inputs.
io::NamedMatrices params_of(const models::Model& model);

// Sets the model's parameters from `named`, which must hold exactly the
// model's parameters with their shapes (norm_mu / norm_sigma are taken out
// first and ignored): "params.npz: W2 has shape (1x7) but the model needs
// (1x5)". A NaN or infinite value is an InputError naming the parameter and
// the element.
void set_params(models::Model& model, io::NamedMatrices named, std::string_view origin);

}  // namespace dagrad::train
