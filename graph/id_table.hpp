// Node ids keyed by a hash: the table behind Graph's hash-consing and its
// name index (graph/graph.cpp). Internal to graph/, not part of the API.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "dagrad/graph/node.hpp"

namespace dagrad::detail {

// Node ids keyed by a hash, in one flat array (open addressing, linear
// probing, at most half full): no allocation per node, unlike the standard
// unordered containers. Several ids may share a hash; the caller's `match`
// tells the one it looks for. Erased entries stay as tombstones until the
// next growth. An entry keeps 32 bits folded from the hash (8 bytes an
// entry in all), which place it and skip most non-matching candidates. The
// slot is taken from the high bits of key * 2^64/phi (Fibonacci hashing):
// the structural hash's low bits alone cluster.
class IdTable {
 public:
  void reserve(std::size_t n) {
    if (2 * n > slots_.size()) rehash(std::bit_ceil(std::max<std::size_t>(16, 2 * n)));
  }

  // The first id with hash h for which match(id) holds.
  template <class Match>
  std::optional<NodeId> find(std::size_t h, Match match) const {
    if (slots_.empty()) return std::nullopt;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = slot(key(h));; i = (i + 1) & mask) {
      const Entry& e = slots_[i];
      if (e.id == empty) return std::nullopt;
      if (e.id != tombstone && e.key == key(h) && match(e.id)) return e.id;
    }
  }

  void insert(std::size_t h, NodeId id) { insert_key(key(h), id); }

  void erase(std::size_t h, NodeId id) {
    if (slots_.empty()) return;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = slot(key(h)); slots_[i].id != empty; i = (i + 1) & mask)
      if (slots_[i].id == id) {
        slots_[i].id = tombstone;
        return;
      }
  }

 private:
  static constexpr NodeId empty = ~NodeId{0}, tombstone = ~NodeId{0} - 1;
  struct Entry {
    std::uint32_t key = 0;
    NodeId id = empty;
  };
  static std::uint32_t key(std::size_t h) { return static_cast<std::uint32_t>(h ^ (h >> 32)); }
  void insert_key(std::uint32_t k, NodeId id) {
    if (2 * (used_ + 1) > slots_.size()) rehash(std::max<std::size_t>(16, 2 * slots_.size()));
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = slot(k);
    while (slots_[i].id != empty) i = (i + 1) & mask;
    slots_[i] = {k, id};
    ++used_;
  }
  std::size_t slot(std::uint32_t k) const {
    return static_cast<std::size_t>((std::uint64_t(k) * 0x9e3779b97f4a7c15ULL) >> shift_);
  }
  void rehash(std::size_t size) {
    std::vector<Entry> old = std::exchange(slots_, std::vector<Entry>(size));
    shift_ = 64 - std::countr_zero(size);
    used_ = 0;
    for (const Entry& e : old)
      if (e.id != empty && e.id != tombstone) insert_key(e.key, e.id);
  }
  std::vector<Entry> slots_;  // size 0 or a power of two
  std::size_t used_ = 0;      // entries and tombstones
  int shift_ = 64;            // 64 - log2(slots_.size())
};

}  // namespace dagrad::detail
