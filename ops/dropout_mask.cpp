// D      = (U < keep_prob), U uniform on [0, 1) from Philox(seed, step, row,
//          sample) while training; all ones in inference
// It has no operands, so no gradient flows through it: the backward pass
// reads the same D the forward pass drew (ops/dropout.cpp).
//
// The counter names the element by its row and by its sample's index in
// the data set (RunContext::samples), not by its position in the batch: a
// sample gets the same mask in any batch, at any batch position and in any
// process of a data-parallel run.
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/dropout_bits.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape mask_shape(const ShapeCall& c) {
  const double keep_prob = c.attrs.get<MaskAttrs>().keep_prob;
  if (!(keep_prob > 0.0 && keep_prob <= 1.0))
    throw ShapeError(fmt::format("dropout mask: keep_prob {} is not in (0, 1]", keep_prob));
  return given_shape(c);
}

template <class T>
void mask_kernel(const KernelCall& c) {
  T* d = c.out.as<T>();
  const std::int64_t rows = c.out.shape.rows, cols = c.out.shape.cols;
  const double kp = c.node.attr<MaskAttrs>().keep_prob;
  if (!c.run.training || kp >= 1.0) {
    std::fill_n(d, rows * cols, T(1));
    return;
  }
  const std::uint64_t threshold = dropout_threshold(kp);
  const DropoutKey key = dropout_key(c.node.attr<MaskAttrs>().seed, c.run.step);
  const bool by_index = static_cast<std::int64_t>(c.run.samples.size()) == cols;
  // One Philox block gives the words of 4 rows of one sample; any split of
  // the columns over threads gives the same mask.
  const std::int64_t grain = std::max<std::int64_t>(1, parallel_grain / std::max<std::int64_t>(rows, 1));
  parallel_for(c.run.threads, cols, [&](std::int64_t j0, std::int64_t j1) {
    for (std::int64_t j = j0; j < j1; ++j) {
      const auto sample = static_cast<std::uint64_t>(
          by_index ? c.run.samples[static_cast<std::size_t>(j)] : j);
      for (std::int64_t r = 0; r < rows; r += 4) {
        const auto words = dropout_words(key, sample, r / 4);
        for (std::int64_t k = 0; k < 4 && r + k < rows; ++k)
          d[(r + k) * cols + j] = words[static_cast<std::size_t>(k)] < threshold ? T(1) : T(0);
      }
    }
  }, grain, 1);
}

}  // namespace

extern const OpDef dropout_mask_op{OpKind::dropout_mask, "dropout_mask", 0, mask_shape,
                                   DAGRAD_KERNELS(mask_kernel), nullptr, false, 0, nullptr, 0,
                                   attrs_index<MaskAttrs>()};

}  // namespace dagrad::ops
