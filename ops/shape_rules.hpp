// Shape rules shared by several ops. Each throws ShapeError naming the op,
// the operands and both shapes, as the notes advise checking dimensions.
#pragma once

#include "dagrad/ops/op.hpp"

namespace dagrad::ops {

// Same shape as the single operand.
Shape same_as_input(const ShapeCall& c);
// numpy broadcasting in 2-D: each dimension equal, or 1 in one operand.
Shape broadcast_binary(const ShapeCall& c);
// Leaves (input, param, constant, dropout_mask): the shape the builder gave,
// each dimension positive or m_dim.
Shape given_shape(const ShapeCall& c);
// Whether x repeats to `to`: each dimension equal, or 1 in x.
bool broadcasts_to(Shape x, Shape to);
// A 1x1 cost from two operands of the same shape (predictions, labels).
Shape cost_of_pair(const ShapeCall& c);
// The fused optimizer updates: the first `tensors` operands share the
// parameter's shape (W, its moments, dW), the others are 1x1 (alpha, the
// bias corrections). Returns W's shape.
Shape update_shape(const ShapeCall& c, std::size_t tensors);
// "matmul W2 (1x4) * A1 (3x400)": the operands as an error message names them.
std::string operands(const ShapeCall& c, std::string_view symbol);

}  // namespace dagrad::ops
