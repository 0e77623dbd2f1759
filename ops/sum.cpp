// y      = s * sum(x) over all elements (axis -1), over rows (axis 0, 1 x m)
//          or over columns (axis 1, n x 1; a 1 x n row without keepdims)
// dy/dx  = s for every element that went into y
// grad_x = s * g repeated over the summed axis   (broadcast to x's shape)
//
// A mean is a sum with s = 1/count, so db = 1/m sum(dZ, axis=1) is one node.
#include <type_traits>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape sum_shape(const ShapeCall& c) {
  const Shape x = c.graph.node(c.inputs[0]).shape;
  switch (c.attrs.get<SumAttrs>().axis) {
    case -1: return Shape{1, 1};
    case 0: return Shape{1, x.cols};
    case 1: return c.attrs.get<SumAttrs>().keepdims ? Shape{x.rows, 1} : Shape{1, x.rows};
    default:
      throw ShapeError(fmt::format("{}: axis {} is not -1, 0 or 1", operands(c, ","),
                                   c.attrs.get<SumAttrs>().axis));
  }
}

template <class T>
void sum_kernel(const KernelCall& c) {
  const T* x = c.in[0].as<T>();
  T* y = c.out.as<T>();
  const std::int64_t rows = c.in[0].shape.rows, cols = c.in[0].shape.cols;
  const double s = scale_of(c);
  if (c.node.attr<SumAttrs>().axis == 0) {  // column sums, accumulated row by row
    std::fill_n(y, cols, T(0));
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < cols; ++j) y[j] += x[r * cols + j];
    for (std::int64_t j = 0; j < cols; ++j) y[j] = static_cast<T>(s * y[j]);
    return;
  }
  // Accumulate in double so that a long f32 sum keeps its digits, in four
  // independent partial sums so that the adds pipeline (and vectorize).
  // (The lanes are a GCC/clang vector type: the vectorizer leaves an array
  // of four partial sums scalar.)
  auto row_sum = [&](std::int64_t r) {
    using Doubles = double __attribute__((vector_size(32)));
    using Floats = float __attribute__((vector_size(16)));
    using Values = std::conditional_t<std::is_same_v<T, float>, Floats, Doubles>;
    const T* row = x + r * cols;
    Doubles part = {0.0, 0.0, 0.0, 0.0};
    std::int64_t j = 0;
    for (; j + 4 <= cols; j += 4) {
      Values v;
      __builtin_memcpy(&v, row + j, sizeof v);
      part += __builtin_convertvector(v, Doubles);
    }
    double acc = (part[0] + part[1]) + (part[2] + part[3]);
    for (; j < cols; ++j) acc += row[j];
    return acc;
  };
  if (c.node.attr<SumAttrs>().axis == 1) {  // row sums (db = sum of dZ over the samples): rows split over threads
    parallel_for_rows(c.run.threads, rows, cols, [&](std::int64_t r0, std::int64_t r1) {
      with_simd([&] {
        for (std::int64_t r = r0; r < r1; ++r) y[r] = static_cast<T>(s * row_sum(r));
      });
    });
    return;
  }
  double total = 0.0;  // one thread: the order of the adds stays fixed
  with_simd([&] {
    for (std::int64_t r = 0; r < rows; ++r) total += row_sum(r);
  });
  y[0] = static_cast<T>(s * total);
}

std::vector<Expr> sum_grad(const GradCall& c) {
  Expr g = c.g;
  if (c.attrs.get<SumAttrs>().axis == 1 && !c.attrs.get<SumAttrs>().keepdims) g = transpose(g);  // back to (n x 1)
  return {broadcast(c.attrs.scale_factor() * g, c.x[0].shape())};
}

}  // namespace

extern const OpDef sum_op{OpKind::sum, "sum", 1, sum_shape, DAGRAD_KERNELS(sum_kernel), sum_grad,
                          true, 0, nullptr, 0, attrs_index<SumAttrs>()};

}  // namespace dagrad::ops
