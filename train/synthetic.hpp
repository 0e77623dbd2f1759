// 2-feature data sets dagrad generates itself (X is 2 x m, Y is 1 x m, labels
// 0/1), seeded through fill_randn so they are the same on every machine:
//   planar   the notes' flower (C1W3): per class j, N = m/2 points,
//            t = linspace(3.12 j, 3.12 (j+1), N) + 0.2 randn,
//            r = a sin(4t) + 0.2 randn, a = 4; x = (r sin t, r cos t)
//   circles  outer circle (cos s, sin s) label 0, inner factor (cos s, sin s)
//            label 1, s evenly spaced on [0, 2 pi), plus noise randn
//   moons    upper moon (cos s, sin s) label 0, lower (1 - cos s, 1/2 - sin s)
//            label 1, s evenly spaced on [0, pi], plus noise randn
// circles and moons are shuffled, as scikit-learn's make_circles/make_moons are.
#pragma once

#include <cstdint>
#include <string_view>

#include "dagrad/io/dataset.hpp"

namespace dagrad::train {

io::Dataset make_planar(std::int64_t m, std::uint64_t seed);
io::Dataset make_circles(std::int64_t m, double noise, double factor, std::uint64_t seed);
io::Dataset make_moons(std::int64_t m, double noise, std::uint64_t seed);
// By name (planar, circles, moons) with the course's noise (0.05 circles,
// 0.2 moons) unless noise >= 0 is given; InputError on an unknown name.
io::Dataset make_dataset(std::string_view name, std::int64_t m, std::uint64_t seed,
                         double noise = -1.0);

}  // namespace dagrad::train
