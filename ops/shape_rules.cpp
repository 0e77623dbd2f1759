#include "dagrad/ops/shape_rules.hpp"

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::ops {

std::string operands(const ShapeCall& c, std::string_view symbol) {
  std::string out(op_def(c.op).name);
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    // "a (2x3) * b (3x4)" but "a (2x3), b (3x2)": a comma takes no space before it.
    if (i > 0) out += symbol == "," ? std::string(",") : fmt::format(" {}", symbol);
    out += fmt::format(" {} {}", c.graph.describe(c.inputs[i]),
                       to_string(c.graph.node(c.inputs[i]).shape));
  }
  return out;
}

Shape same_as_input(const ShapeCall& c) { return c.graph.node(c.inputs[0]).shape; }

Shape given_shape(const ShapeCall& c) {
  auto bad = [](std::int64_t d) { return d <= 0 && d != m_dim; };
  if (bad(c.given.rows) || bad(c.given.cols))
    throw ShapeError(fmt::format("{}: shape {} has a dimension <= 0", op_def(c.op).name,
                                 to_string(c.given)));
  return c.given;
}

bool broadcasts_to(Shape x, Shape to) {
  return (x.rows == to.rows || x.rows == 1) && (x.cols == to.cols || x.cols == 1);
}

Shape broadcast_binary(const ShapeCall& c) {
  const Shape a = c.graph.node(c.inputs[0]).shape;
  const Shape b = c.graph.node(c.inputs[1]).shape;
  // NOTE: m broadcasts only with 1 and with m: (n x m) + (n x 5) is refused
  // even though a run might bind m = 5.
  auto dim = [&](std::int64_t x, std::int64_t y, const char* what) {
    if (x == y || y == 1) return x;
    if (x == 1) return y;
    throw ShapeError(fmt::format("{}: {} {} != {} and neither is 1, so they do not broadcast",
                                 operands(c, ","), what, to_string_dim(x), to_string_dim(y)));
  };
  return Shape{dim(a.rows, b.rows, "rows"), dim(a.cols, b.cols, "columns")};
}

Shape update_shape(const ShapeCall& c, std::size_t tensors) {
  const Shape w = c.graph.node(c.inputs[0]).shape;
  for (std::size_t k = 0; k < c.inputs.size(); ++k) {
    const Shape s = c.graph.node(c.inputs[k]).shape;
    if (k < tensors ? s != w : !s.is_scalar())
      throw ShapeError(fmt::format("{}: operand {} must be {}", operands(c, ","), k + 1,
                                   k < tensors ? to_string(w) : std::string("(1x1)")));
  }
  return w;
}

Shape cost_of_pair(const ShapeCall& c) {
  const Shape a = c.graph.node(c.inputs[0]).shape;
  const Shape y = c.graph.node(c.inputs[1]).shape;
  if (a != y) {
    // The usual cause: class numbers (one row) against K output units.
    const bool class_numbers = a.rows > 1 && y.rows == 1 && a.cols == y.cols;
    throw ShapeError(fmt::format("{}: predictions and labels must have the same shape{}", operands(c, ","),
                                 class_numbers ? fmt::format("; for {} classes give the labels one-hot, "
                                                             "declared {{{}, m}} (docs/data.md)", a.rows, a.rows)
                                               : ""));
  }
  return Shape{1, 1};
}

}  // namespace dagrad::ops
