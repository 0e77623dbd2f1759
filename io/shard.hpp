// The pieces of sharding that loading (io/dataset.cpp), shard_of
// (io/shard.cpp) and the train/dev split (io/split.cpp) share. A Shard and
// shard_of, the API, are in io/dataset.hpp.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace dagrad::io {

struct Dataset;
struct Shard;

// The range [begin, end) of `total` samples that a shard holds.
std::pair<std::int64_t, std::int64_t> part_of(std::int64_t total, const Shard& s);
// Makes `d` the shard of `total` samples holding [begin, end).
void make_shard(Dataset& d, std::int64_t begin, std::int64_t end, std::int64_t total);
// InputError unless every process of the run gets a sample.
void check_enough_samples(const Dataset& d, const Shard& shard);
// The samples `cols` of `d` as a data set named "<origin> (<part> split)".
Dataset take_columns(const Dataset& d, const std::vector<std::int64_t>& cols, std::string_view part);
// The same as the shard of a set of `total` samples, the samples having the
// indices `index` there.
Dataset take_shard(const Dataset& d, const std::vector<std::int64_t>& cols, std::vector<std::int64_t> index,
                   std::int64_t total, std::string_view part);

}  // namespace dagrad::io
