#include "dagrad/models/normalize.hpp"

#include <cmath>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::models {

Normalizer Normalizer::fit(const io::Matrix& X) { return fit(X, dist::Comm::self(), X.cols()); }

Normalizer Normalizer::fit(const io::Matrix& X, dist::Comm& comm, std::int64_t total) {
  const std::int64_t n = X.rows(), m = X.cols();
  if (total < 1) throw InputError("normalize: the training set has no samples");
  std::vector<double> sum(static_cast<std::size_t>(n), 0.0), sq(sum.size(), 0.0);
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t c = 0; c < m; ++c) sum[static_cast<std::size_t>(r)] += X(r, c);
  comm.sum(sum);
  Normalizer z;
  for (double s : sum) z.mu.push_back(s / static_cast<double>(total));
  for (std::int64_t r = 0; r < n; ++r) {
    const double mu = z.mu[static_cast<std::size_t>(r)];
    for (std::int64_t c = 0; c < m; ++c) sq[static_cast<std::size_t>(r)] += (X(r, c) - mu) * (X(r, c) - mu);
  }
  comm.sum(sq);
  for (double s : sq) {
    const double sigma = std::sqrt(s / static_cast<double>(total));
    // NOTE: a constant feature has sigma 0; dividing would give NaN, so it is
    // only centred.
    z.sigma.push_back(sigma > 0.0 ? sigma : 1.0);
  }
  return z;
}

void Normalizer::apply(io::Matrix& X) const {
  if (static_cast<std::size_t>(X.rows()) != mu.size())
    throw InputError(fmt::format("normalize: data has {} features but mu/sigma were computed for {}",
                                 X.rows(), mu.size()));
  for (std::int64_t r = 0; r < X.rows(); ++r)
    for (std::int64_t c = 0; c < X.cols(); ++c) X(r, c) = apply(static_cast<std::size_t>(r), X(r, c));
}

io::NamedMatrices Normalizer::to_named() const {
  const Shape s{static_cast<std::int64_t>(mu.size()), 1};
  io::Matrix a(s), b(s);
  a.values = mu;
  b.values = sigma;
  return {{"norm_mu", std::move(a)}, {"norm_sigma", std::move(b)}};
}

std::optional<Normalizer> Normalizer::extract(io::NamedMatrices& params, std::string_view origin) {
  std::optional<io::Matrix> mu, sigma;
  std::erase_if(params, [&](auto& p) {
    if (p.first == "norm_mu") mu = std::move(p.second);
    else if (p.first == "norm_sigma") sigma = std::move(p.second);
    else return false;
    return true;
  });
  if (!mu && !sigma) return std::nullopt;
  if (!mu || !sigma || mu->shape != sigma->shape || mu->cols() != 1)
    throw InputError(fmt::format("{}: norm_mu and norm_sigma must both be present as (n x 1) arrays",
                                 origin));
  for (std::size_t i = 0; i < sigma->values.size(); ++i)
    if (!(sigma->values[i] > 0.0) || !std::isfinite(mu->values[i]))
      throw InputError(fmt::format("{}: norm_sigma[{}] = {} is not a positive number", origin, i,
                                   sigma->values[i]));
  return Normalizer{mu->values, sigma->values};
}

}  // namespace dagrad::models
