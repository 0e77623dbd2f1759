// The random words behind a dropout mask, shared by the mask kernel
// (ops/dropout_mask.cpp) and the fused narrow-net kernel, which draws the
// same masks tile by tile: element (row r, sample s) of the mask of step t
// keeps its unit when word r % 4 of Philox(key(seed, t), (r / 4, s, t)) is
// below keep_prob * 2^32.
#pragma once

#include <array>
#include <cstdint>

#include "dagrad/ops/philox.hpp"

namespace dagrad::ops {

struct DropoutKey {
  std::array<std::uint32_t, 2> key;
  std::uint64_t step;
};

inline DropoutKey dropout_key(std::uint64_t seed, std::uint64_t step) {
  return {{static_cast<std::uint32_t>(seed),
           static_cast<std::uint32_t>(seed >> 32) ^ static_cast<std::uint32_t>(step >> 32)},
          step};
}

// U < keep_prob  <=>  word < keep_prob * 2^32 for the 32-bit word U * 2^32.
inline std::uint64_t dropout_threshold(double keep_prob) {
  return static_cast<std::uint64_t>(keep_prob * 4294967296.0);
}

// The words of rows 4q .. 4q+3 of one sample.
inline std::array<std::uint32_t, 4> dropout_words(const DropoutKey& k, std::uint64_t sample,
                                                  std::int64_t quad) {
  return philox4x32({static_cast<std::uint32_t>(quad), static_cast<std::uint32_t>(sample),
                     static_cast<std::uint32_t>(sample >> 32), static_cast<std::uint32_t>(k.step)},
                    k.key);
}

}  // namespace dagrad::ops
