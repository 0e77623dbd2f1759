// Input normalization (C2W1): per feature j, over the training set only,
//   mu_j    = (1/m) sum_i X(j, i)
//   sigma_j = sqrt((1/m) sum_i (X(j, i) - mu_j)^2)      (1 when the feature is constant)
// then X := (X - mu) / sigma on train, dev and test alike, so all three see
// the same transformation. Saved beside the weights as norm_mu / norm_sigma.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "dagrad/dist/comm.hpp"
#include "dagrad/io/matrix.hpp"
#include "dagrad/io/params.hpp"

namespace dagrad::models {

struct Normalizer {
  std::vector<double> mu, sigma;  // one per feature (row of X)

  // mu and sigma of the (n_x x m) training matrix X.
  static Normalizer fit(const io::Matrix& X);
  // The same over a data set cut into the processes of `comm` (each holds X,
  // its part of `total` samples): the sums and the squared deviations from
  // mu are summed over the processes, each before its division, so every
  // process gets the same mu and sigma and one process gets fit(X)'s.
  static Normalizer fit(const io::Matrix& X, dist::Comm& comm, std::int64_t total);
  // X := (X - mu) / sigma in place; InputError when X has another feature count.
  void apply(io::Matrix& X) const;
  // One value x of feature j: (x - mu_j) / sigma_j, as apply() computes it.
  double apply(std::size_t j, double x) const { return (x - mu[j]) * (1.0 / sigma[j]); }

  // As two (n_x x 1) arrays named norm_mu and norm_sigma, for the params file.
  io::NamedMatrices to_named() const;
  // Removes norm_mu / norm_sigma from `params` and returns them, if present.
  static std::optional<Normalizer> extract(io::NamedMatrices& params, std::string_view origin);
};

}  // namespace dagrad::models
