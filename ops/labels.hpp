// Label checks shared by the cross-entropy kernels. Wrong labels are an
// input error that names the cost node and the first offending element.
#pragma once

#include <cmath>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::ops {

// Binary cross-entropy needs every label to be exactly 0 or 1. `slot` is
// the labels' operand (1 for the cost ops; the fused net's Y elsewhere).
template <class T>
void check_binary_labels(const KernelCall& c, const Buffer& Y, std::size_t slot = 1) {
  const T* y = Y.as<T>();
  // One branch-free pass (it runs every step), then the search for the
  // first bad label only when there is one.
  unsigned bad = 0;
  for (std::int64_t i = 0; i < Y.shape.size(); ++i)
    bad |= static_cast<unsigned>(y[i] != T(0)) & static_cast<unsigned>(y[i] != T(1));
  if (!bad) return;
  for (std::int64_t i = 0; i < Y.shape.size(); ++i)
    if (y[i] != T(0) && y[i] != T(1))
      throw InputError(fmt::format("{} {}: label {}({}, {}) = {} is not 0 or 1",
                                   op_def(c.node.op).name, c.graph.describe(c.id),
                                   c.graph.describe(c.node.inputs[slot]), i / Y.shape.cols,
                                   i % Y.shape.cols, static_cast<double>(y[i])));
}

// Categorical cross-entropy from logits needs each label column to be a
// distribution (one-hot): entries >= 0 that sum to 1.
template <class T>
void check_label_columns(const KernelCall& c, const Buffer& Y, std::size_t slot = 1) {
  const T* y = Y.as<T>();
  const std::int64_t rows = Y.shape.rows, cols = Y.shape.cols;
  for (std::int64_t j = 0; j < cols; ++j) {
    double total = 0.0;
    bool negative = false;
    for (std::int64_t k = 0; k < rows; ++k) {
      total += y[k * cols + j];
      negative |= y[k * cols + j] < T(0);
    }
    if (negative || std::abs(total - 1.0) > 1e-6)
      throw InputError(fmt::format("{} {}: label column {} of {} sums to {}, not 1 (labels "
                                   "must be one-hot)",
                                   op_def(c.node.op).name, c.graph.describe(c.id), j,
                                   c.graph.describe(c.node.inputs[slot]), total));
  }
}

}  // namespace dagrad::ops
