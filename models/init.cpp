#include "dagrad/models/init.hpp"

#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/philox.hpp"

namespace dagrad::models {

Init parse_init(std::string_view s) {
  for (Init i : {Init::zeros, Init::small, Init::he, Init::xavier})
    if (name_of(i) == s) return i;
  throw InputError(fmt::format("unknown --init '{}' (use zeros, small, he or xavier)", s));
}

std::string_view name_of(Init i) {
  constexpr std::string_view names[] = {"zeros", "small", "he", "xavier"};
  return names[static_cast<int>(i)];
}

void fill_randn(std::span<double> out, std::uint64_t seed, std::uint64_t stream) {
  const std::array<std::uint32_t, 2> key{static_cast<std::uint32_t>(seed),
                                         static_cast<std::uint32_t>(seed >> 32)};
  // Each Philox block gives 4 words: two uniform pairs, two normals each.
  for (std::size_t i = 0; i < out.size(); i += 4) {
    const auto block = static_cast<std::uint64_t>(i / 4);
    const auto w = ops::philox4x32({static_cast<std::uint32_t>(block),
                                    static_cast<std::uint32_t>(block >> 32),
                                    static_cast<std::uint32_t>(stream),
                                    static_cast<std::uint32_t>(stream >> 32)},
                                   key);
    for (std::size_t k = 0; k < 4; k += 2) {
      // u1 in (0, 1] so log(u1) is finite; u2 in [0, 1).
      const double u1 = (double(w[k]) + 1.0) / 4294967296.0;
      const double u2 = double(w[k + 1]) / 4294967296.0;
      const double r = std::sqrt(-2.0 * std::log(u1));
      const double t = 2.0 * std::numbers::pi * u2;
      if (i + k < out.size()) out[i + k] = r * std::cos(t);
      if (i + k + 1 < out.size()) out[i + k + 1] = r * std::sin(t);
    }
  }
}

runtime::Tensor init_weight(Shape shape, Init init, double fan_in, std::uint64_t seed,
                            std::uint64_t stream, DType dtype) {
  const double scale = init == Init::zeros    ? 0.0
                       : init == Init::small  ? 0.01
                       : init == Init::he     ? std::sqrt(2.0 / fan_in)
                                              : std::sqrt(1.0 / fan_in);
  runtime::Tensor W(dtype, shape);
  if (scale == 0.0) return W;
  std::vector<double> z(static_cast<std::size_t>(shape.size()));
  fill_randn(z, seed, stream);
  for (std::int64_t i = 0; i < W.size(); ++i) W.set(i, scale * z[static_cast<std::size_t>(i)]);
  return W;
}

std::vector<runtime::Tensor> init_params(const models::Mlp& model, Init init,
                                         std::uint64_t seed, DType dtype) {
  std::vector<runtime::Tensor> out;
  for (std::size_t l = 0; l < model.W.size(); ++l) {
    const Shape ws = model.W[l].shape();
    out.push_back(init_weight(ws, init, static_cast<double>(ws.cols), seed, l + 1, dtype));
    out.emplace_back(dtype, model.b[l].shape());
  }
  return out;
}

}  // namespace dagrad::models
