// D      = (U < keep_prob), U uniform on [0, 1) from Philox(seed, step, i)
//          while training; all ones in inference
// It has no operands, so no gradient flows through it: the backward pass
// reads the same D the forward pass drew (ops/dropout.cpp).
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/philox.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape mask_shape(const ShapeCall& c) {
  if (!(c.attrs.keep_prob > 0.0 && c.attrs.keep_prob <= 1.0))
    throw ShapeError(fmt::format("dropout mask: keep_prob {} is not in (0, 1]", c.attrs.keep_prob));
  return given_shape(c);
}

template <class T>
void mask_kernel(const KernelCall& c) {
  T* d = c.out.as<T>();
  const std::int64_t n = c.out.shape.size();
  const double kp = c.node.attrs.keep_prob;
  if (!c.run.training || kp >= 1.0) {
    std::fill_n(d, n, T(1));
    return;
  }
  // U < kp  <=>  word < kp * 2^32 for the 32-bit word U * 2^32.
  const auto threshold = static_cast<std::uint64_t>(kp * 4294967296.0);
  const std::uint64_t seed = c.node.attrs.seed, step = c.run.step;
  const std::array<std::uint32_t, 2> key{static_cast<std::uint32_t>(seed),
                                         static_cast<std::uint32_t>(seed >> 32)};
  // Philox is counter-based: element i's word depends only on (i / 4, step,
  // seed), so any split of the range (at multiples of 4) gives the same mask.
  parallel_for(c.run.threads, n, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; i += 4) {
      const auto block = static_cast<std::uint64_t>(i / 4);
      const auto words = philox4x32({static_cast<std::uint32_t>(block),
                                     static_cast<std::uint32_t>(block >> 32),
                                     static_cast<std::uint32_t>(step),
                                     static_cast<std::uint32_t>(step >> 32)},
                                    key);
      for (std::int64_t k = 0; k < 4 && i + k < e; ++k)
        d[i + k] = words[static_cast<std::size_t>(k)] < threshold ? T(1) : T(0);
    }
  });
}

}  // namespace

extern const OpDef dropout_mask_op{OpKind::dropout_mask, "dropout_mask", 0, mask_shape,
                                   DAGRAD_KERNELS(mask_kernel), nullptr, false};

}  // namespace dagrad::ops
