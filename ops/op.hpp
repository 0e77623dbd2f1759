// What one op is: its shape rule, its kernels (float and double) and its
// gradient rule, all defined in one file per op (ops/<name>.cpp) and listed
// in one table (ops/registry.cpp). Evaluation and differentiation look the
// entry up; nothing switches over every op.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph.hpp"

namespace dagrad::ops {

// A value as kernels see it: a row-major (rows x cols) matrix.
struct Buffer {
  void* data = nullptr;
  Shape shape;

  template <class T> T* as() const { return static_cast<T*>(data); }
};

// Run-time state shared by all kernels of one run.
struct RunContext {
  bool training = true;         // dropout is the identity when false
  std::uint64_t step = 0;       // counter fed to the dropout RNG
  int threads = 1;              // elementwise work may be split this many ways
};

struct KernelCall {
  const Graph& graph;
  NodeId id;
  const Node& node;
  std::span<const Buffer> in;
  Buffer out;
  const RunContext& run;
};

using Kernel = void (*)(const KernelCall&);

// Shape rule: the node's shape from its operands (and, for leaves, the shape
// given by the builder). Throws ShapeError naming the operands and shapes.
struct ShapeCall {
  const Graph& graph;
  OpKind op;
  std::span<const NodeId> inputs;
  const Attrs& attrs;
  Shape given;
};

using ShapeRule = Shape (*)(const ShapeCall&);

// Gradient rule. y = the node, x = its operands, g = dJ/dy (y's shape). It
// returns one expression per operand, in y's shape or the operand's shape:
// the driver sums a broadcast operand's gradient back to its shape in one
// place (autodiff/gradients.cpp). An invalid Expr means "no gradient".
struct GradCall {
  Graph& graph;
  Expr y;
  std::span<const Expr> x;
  Expr g;
  const Attrs& attrs;
  std::vector<bool> wanted;  // which operands need a gradient
};

using GradRule = std::vector<Expr> (*)(const GradCall&);

struct OpDef {
  OpKind kind;
  std::string_view name;
  int arity;  // -1: any number of operands (l2_penalty)
  ShapeRule shape;
  Kernel f32;
  Kernel f64;
  GradRule grad;     // nullptr for leaves
  bool smooth;       // derivative continuous everywhere (for second-order checks)
};

const OpDef& op_def(OpKind kind);
std::span<const OpDef* const> all_ops();
// Throws GraphError for a name that is not an op ("unknown op 'foo'").
OpKind op_from_name(std::string_view name);

}  // namespace dagrad::ops
