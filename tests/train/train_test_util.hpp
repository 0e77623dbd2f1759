// Tiny data sets the [train] tests make themselves.
#pragma once

#include <cmath>
#include <cstdint>

#include "dagrad/io/dataset.hpp"

namespace dagrad::test {

// Two interleaved half-circles of m points, label 1 above y = 0.25 - x/2 or
// so: a problem a small relu net learns in a few hundred steps.
inline io::Dataset tiny_moons(std::int64_t m) {
  io::Dataset d{io::Matrix({2, m}), io::Matrix({1, m}), "tiny"};
  for (std::int64_t i = 0; i < m; ++i) {
    const bool upper = i % 2 == 0;
    const double s = 3.14159 * static_cast<double>(i) / static_cast<double>(m);
    const double jitter = 0.05 * std::sin(12.9898 * static_cast<double>(i));
    d.X(0, i) = upper ? std::cos(s) : 1.0 - std::cos(s);
    d.X(1, i) = (upper ? std::sin(s) : 0.5 - std::sin(s)) + jitter;
    d.Y(0, i) = upper ? 0.0 : 1.0;
  }
  return d;
}

}  // namespace dagrad::test
