// Parameter initialization, seeded and reproducible (biases start at zero):
//   zeros   W = 0                          (the notes' symmetry failure)
//   small   W = randn * 0.01
//   he      W = randn * sqrt(2 / n[l-1])   (for relu)
//   xavier  W = randn * sqrt(1 / n[l-1])   (for tanh)
// randn comes from Box-Muller over Philox(seed, layer, index), so a seed
// gives the same weights on every machine and standard library.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dagrad/models/mlp.hpp"
#include "dagrad/runtime/tensor.hpp"

namespace dagrad::models {

enum class Init { zeros, small, he, xavier };

Init parse_init(std::string_view s);  // InputError on unknown names
std::string_view name_of(Init i);

// Standard normal numbers for (seed, stream): out[i] depends only on
// (seed, stream, i).
void fill_randn(std::span<double> out, std::uint64_t seed, std::uint64_t stream);

// A weight of `shape` drawn from Philox stream `stream`, scaled by its
// fan-in n[l-1] as `init` says (zeros: all zero).
runtime::Tensor init_weight(Shape shape, Init init, double fan_in, std::uint64_t seed,
                            std::uint64_t stream, DType dtype);

// W1, b1, ..., WL, bL for `model`, in the order of model.params().
std::vector<runtime::Tensor> init_params(const Mlp& model, Init init,
                                         std::uint64_t seed, DType dtype);

}  // namespace dagrad::models
