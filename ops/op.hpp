// What one op is: its shape rule, its kernels (float and double) and its
// gradient rule, all defined in one file per op (ops/<name>.cpp) and listed
// in one table (ops/registry.cpp). Evaluation and differentiation look the
// entry up; nothing switches over every op.
#pragma once

#include <cstddef>
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

// The sums of a data-parallel run, as the allreduce ops see them
// (dist::Comm implements them over MPI). allreduce_start packs a bucket of
// gradients and calls start(); allreduce_wait calls wait() with the same
// start node's id, after which `data` holds the bucket summed over every
// process, bitwise the same on all of them. The executor calls progress()
// between kernels, so a started bucket moves while the backward pass runs.
class Collectives {
 public:
  virtual ~Collectives() = default;
  // Starts summing `count` values of `dtype` at `data` in place; `data`
  // must stay untouched until wait(start).
  virtual void start(NodeId start, void* data, std::int64_t count, DType dtype) = 0;
  virtual void wait(NodeId start) = 0;
  virtual void progress() = 0;
};

// Run-time state shared by all kernels of one run.
struct RunContext {
  bool training = true;         // dropout is the identity when false
  std::uint64_t step = 0;       // counter fed to the dropout RNG
  int threads = 1;              // elementwise work may be split this many ways
  std::int64_t m = 0;           // the sample count bound to m (0: no symbolic m)
  // The data set index of each of the m sample columns, or empty: column j
  // is sample j. Dropout masks are keyed by it, so a sample's mask does not
  // depend on its batch, its position in the batch or the process.
  std::span<const std::int64_t> samples = {};
  // The sample count every 1/m divides by (scales with m_pow, the costs, an
  // L2 penalty over m): the global batch of a data-parallel run, of which
  // this process holds m columns; 0: m itself.
  std::int64_t batch = 0;
  // Sums over the processes of a data-parallel run; null: one process, and
  // a bucket's sum is the bucket itself.
  Collectives* collectives = nullptr;
};

// The m of the notes' 1/m: the global batch, or the bound m.
inline std::int64_t batch_of(const RunContext& r) { return r.batch > 0 ? r.batch : r.m; }

struct KernelCall {
  const Graph& graph;
  NodeId id;
  const Node& node;
  std::span<const Buffer> in;
  Buffer out;
  const RunContext& run;
  // Scratch memory of this step alone, OpDef::workspace's bytes at the
  // plan's capacity (64-byte aligned, in the plan's arena); empty for an op
  // that asks for none.
  std::span<std::byte> workspace = {};
};

using Kernel = void (*)(const KernelCall&);

// 1/(number of columns) of a value: the cost's 1/m, symbolic when the
// columns are the sample count m.
inline Scale per_column(Shape s) {
  return s.cols == m_dim ? per_m : Scale(1.0 / static_cast<double>(s.cols));
}

// The node's scale attribute (MatmulAttrs, AffineAttrs, SumAttrs) with m
// bound: scale.value * m^scale.m_pow,
// with m the batch's sample count (batch_of: global in a data-parallel run).
inline double scale_of(const KernelCall& c) {
  return c.node.attrs.scale_factor().at(batch_of(c.run));
}

// What a cost over its first operand's columns divides its sum by: the
// batch's sample count when those columns are the samples m (so a process
// holding part of a data-parallel batch divides by the whole batch's
// count), otherwise the operand's own column count.
inline double cost_divisor(const KernelCall& c) {
  const bool samples = c.graph.node(c.node.inputs[0]).shape.cols == m_dim;
  return static_cast<double>(samples ? batch_of(c.run) : c.in[0].shape.cols);
}

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
  // Bit k set: the kernel overwrites operand k (a param or state leaf) in
  // place. The schedule runs such a node after the operand's other readers.
  unsigned writes = 0;
  // For an op whose written operands differ per node (fused_net, update):
  // how many of the node's first operands its kernel overwrites. Its value
  // is its own (in the arena), unless `writes` is also set (update: the
  // value is operand 0's memory).
  std::size_t (*writes_first)(const Node&) = nullptr;
  // Where the schedule puts the node among those it does not depend on
  // (Graph::schedule): -1 as early as its operands allow (a bucket's
  // start, so its sum overlaps the rest of the backward pass), +1 as late
  // as its readers allow (the wait); 0: the topological sort's order.
  int placement = 0;
  // The attribute type its nodes carry (graph/attrs.hpp), as its index in
  // AttrsVariant: attrs_index<MatmulAttrs>() (a compile error for a type
  // that is not one). Graph::add gives a node built without attributes this
  // type with its defaults, and refuses a node given another type.
  std::size_t attrs = attrs_index<NoAttrs>();
  // Scratch bytes the kernel needs during its step beside its value, for
  // m samples: the memory planner places them in the arena, live at that
  // step alone (so a memory limit counts them and no kernel allocates), and
  // the kernel gets them as KernelCall::workspace. Null: none.
  std::size_t (*workspace)(const Graph& g, const Node& n, std::int64_t m) = nullptr;
};

const OpDef& op_def(OpKind kind);
std::span<const OpDef* const> all_ops();

// The attribute type `kind`'s nodes carry (OpDef::attrs).
inline std::size_t attrs_kind(OpKind kind) { return op_def(kind).attrs; }

// Whether node n's kernel overwrites its operand k (OpDef::writes or
// OpDef::writes_first).
inline bool writes_operand(const Node& n, std::size_t k) {
  const OpDef& d = op_def(n.op);
  if (d.writes_first) return k < d.writes_first(n);
  return k < 32 && (d.writes & (1u << k)) != 0;
}
// Throws GraphError for a name that is not an op ("unknown op 'foo'").
OpKind op_from_name(std::string_view name);

}  // namespace dagrad::ops
