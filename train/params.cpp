#include "dagrad/train/params.hpp"

#include <cmath>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/models/normalize.hpp"

namespace dagrad::train {

io::NamedMatrices params_of(const models::Model& model) {
  io::NamedMatrices out;
  for (Expr p : model.params()) out.emplace_back(p.name(), model.value(p.name()).to_matrix());
  if (model.normalization)
    for (auto& nm : model.normalization->to_named()) out.push_back(std::move(nm));
  return out;
}

void set_params(models::Model& model, io::NamedMatrices named, std::string_view origin) {
  models::Normalizer::extract(named, origin);
  std::vector<std::pair<std::string, Shape>> expected;
  for (Expr p : model.params()) expected.emplace_back(p.name(), p.shape());
  io::check_params_against(named, expected, origin);
  for (auto& [name, m] : named) {
    for (std::size_t i = 0; i < m.values.size(); ++i)
      if (!std::isfinite(m.values[i]))
        throw InputError(fmt::format("{}: {} holds {} at ({}, {})", origin, name, m.values[i],
                                     static_cast<std::int64_t>(i) / m.cols(),
                                     static_cast<std::int64_t>(i) % m.cols()));
    model.set_value(name, runtime::Tensor::from_matrix(m, model.dtype()));
  }
}

}  // namespace dagrad::train
