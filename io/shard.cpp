// Sharding: the part of a data set one process of a data-parallel run holds
// (io/shard.hpp), and shard_of (io/dataset.hpp) for a set already in memory.
#include "dagrad/io/shard.hpp"

#include <numeric>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/dataset.hpp"

namespace dagrad::io {

// The range [begin, end) of `total` samples that a shard holds.
std::pair<std::int64_t, std::int64_t> part_of(std::int64_t total, const Shard& s) {
  return {total * s.part / s.parts, total * (s.part + 1) / s.parts};
}

// A shard of `total` samples holding [begin, end).
void make_shard(Dataset& d, std::int64_t begin, std::int64_t end, std::int64_t total) {
  d.index.resize(static_cast<std::size_t>(end - begin));
  std::iota(d.index.begin(), d.index.end(), begin);
  d.total = total;
}

// Every process of a data-parallel run needs a sample: with more processes
// than samples some would hold none (an empty batch further on).
void check_enough_samples(const Dataset& d, const Shard& shard) {
  const std::int64_t m = d.total_samples();
  if (shard.parts > 1 && m > 0 && m < shard.parts)
    throw InputError(fmt::format("{}: {} samples for {} processes: each process needs at least one sample; "
                                 "run at most {} (mpirun -np {})", d.origin, m, shard.parts, m, m));
}

namespace {

Matrix columns_of(const Matrix& from, const std::vector<std::int64_t>& cols) {
  const auto m = static_cast<std::int64_t>(cols.size());
  Matrix out(Shape{from.rows(), m});
  for (std::int64_t j = 0; j < m; ++j)
    for (std::int64_t k = 0; k < from.rows(); ++k) out(k, j) = from(k, cols[j]);
  return out;
}

}  // namespace

Dataset take_columns(const Dataset& d, const std::vector<std::int64_t>& cols, std::string_view part) {
  Dataset out;
  out.origin = fmt::format("{} ({} split)", d.origin, part);
  out.X = columns_of(d.X, cols);
  out.Y = columns_of(d.Y, cols);
  for (const auto& [name, values] : d.inputs) out.inputs.emplace_back(name, columns_of(values, cols));
  return out;
}

// A shard's columns `cols` as the shard of a set of `total` samples whose
// indices they have there.
Dataset take_shard(const Dataset& d, const std::vector<std::int64_t>& cols,
                   std::vector<std::int64_t> index, std::int64_t total, std::string_view part) {
  Dataset out = take_columns(d, cols, part);
  out.index = std::move(index);
  out.total = total;
  return out;
}

Dataset shard_of(const Dataset& data, int part, int parts) {
  if (parts < 1 || part < 0 || part >= parts)
    throw InputError(fmt::format("{}: part {} of {} does not exist", data.origin, part, parts));
  if (data.is_shard()) throw InputError(fmt::format("{}: is already a part of a data set", data.origin));
  check_enough_samples(data, {part, parts});
  const std::int64_t m = data.samples();
  const std::int64_t begin = m * part / parts, end = m * (part + 1) / parts;
  std::vector<std::int64_t> cols;
  for (std::int64_t i = begin; i < end; ++i) cols.push_back(i);
  Dataset out = take_shard(data, cols, cols, m, fmt::format("part {} of {}", part + 1, parts));
  out.origin = data.origin;
  out.notes = data.notes;
  out.labels_from_last_column = data.labels_from_last_column;
  return out;
}

}  // namespace dagrad::io
