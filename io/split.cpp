// The train/dev split (io/dataset.hpp): a seeded shuffle of the sample
// indices, of a whole data set or of one process's shard of it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/io/shard.hpp"

namespace dagrad::io {

namespace {

// Uniform in [0, n) by rejection, so the split is the same on every platform
// (std::uniform_int_distribution's algorithm is implementation-defined).
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t r;
  do r = rng(); while (r >= limit);
  return r % n;
}

// The split of a shard: the permutation of the whole set's indices decides,
// so each process keeps the train and dev samples of its own part, indexed
// as the one-process split indexes them (train sample j is order[n_dev + j]).
std::pair<Dataset, Dataset> split_shard(const Dataset& data, std::int64_t n_dev,
                                        const std::vector<std::int64_t>& order) {
  std::vector<std::int64_t> at(order.size());  // the position of each sample in `order`
  for (std::size_t j = 0; j < order.size(); ++j) at[static_cast<std::size_t>(order[j])] = static_cast<std::int64_t>(j);
  std::vector<std::pair<std::int64_t, std::int64_t>> train, dev;  // (index in the part, column)
  for (std::int64_t c = 0; c < data.samples(); ++c) {
    const std::int64_t p = at[static_cast<std::size_t>(data.index[static_cast<std::size_t>(c)])];
    if (p < n_dev) dev.emplace_back(p, c);
    else train.emplace_back(p - n_dev, c);
  }
  auto part = [&](std::vector<std::pair<std::int64_t, std::int64_t>>& v, std::int64_t total, std::string_view name) {
    std::sort(v.begin(), v.end());
    std::vector<std::int64_t> cols, index;
    for (const auto& [i, c] : v) {
      index.push_back(i);
      cols.push_back(c);
    }
    return take_shard(data, cols, std::move(index), total, name);
  };
  const auto m = static_cast<std::int64_t>(order.size());
  return {part(train, m - n_dev, "train"), part(dev, n_dev, "dev")};
}

}  // namespace

std::pair<Dataset, Dataset> split_train_dev(const Dataset& data, double dev_ratio, std::uint64_t seed) {
  const std::int64_t m = data.total_samples();
  if (!(dev_ratio >= 0.0 && dev_ratio < 1.0))
    throw InputError(fmt::format("{}: dev ratio {} is not in [0, 1)", data.origin, dev_ratio));
  const auto n_dev = static_cast<std::int64_t>(std::llround(static_cast<double>(m) * dev_ratio));
  if (n_dev >= m)
    throw InputError(fmt::format("{}: a dev ratio of {} leaves no training samples out of {}", data.origin,
                                 dev_ratio, m));
  std::vector<std::int64_t> order(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  for (std::int64_t i = m - 1; i > 0; --i)
    std::swap(order[i], order[uniform_below(rng, static_cast<std::uint64_t>(i) + 1)]);
  if (data.is_shard()) return split_shard(data, n_dev, order);
  const std::vector<std::int64_t> dev(order.begin(), order.begin() + n_dev);
  const std::vector<std::int64_t> train(order.begin() + n_dev, order.end());
  return {take_columns(data, train, "train"), take_columns(data, dev, "dev")};
}

}  // namespace dagrad::io
