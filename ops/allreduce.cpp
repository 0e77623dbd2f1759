// The sum over the processes of a data-parallel run, as three nodes:
//   B      = allreduce_start(g1, ..., gk)   [g1; ...; gk] packed, (n x 1); its sum starts
//   S      = allreduce_wait(B)               sum over processes p of B_p   (n x 1)
//   gi_sum = allreduce_part(S)               S[offset_i : offset_i + size_i] in gi's shape
// The start is placed as early as its operands allow and the wait as late as
// its readers allow (OpDef::placement), so a bucket's transfer overlaps the
// rest of the backward pass, as PyTorch DDP's buckets do. How the sum is made
// (the same bits on every process) is dist::Comm's. Without collectives (one
// process) the sum of the bucket is the bucket. dist::data_parallel makes
// these nodes; they are never differentiated (grad = nullptr).
// NOTE: the bucket's buffer belongs to the transfer from start to wait; the
// planner keeps it live that long because the wait reads it.
#include <cstring>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape start_shape(const ShapeCall& c) {
  if (c.inputs.empty()) throw ShapeError("allreduce_start: a bucket needs at least one value");
  std::int64_t n = 0;
  for (NodeId x : c.inputs) {
    const Shape s = c.graph.node(x).shape;
    if (s.symbolic())
      throw ShapeError(fmt::format("{}: {} {} holds the sample count m; only values of a fixed "
                                   "size (gradients, costs) are summed over processes",
                                   operands(c, ","), c.graph.describe(x), to_string(s)));
    n += s.size();
  }
  return Shape{n, 1};
}

template <class T>
void start_kernel(const KernelCall& c) {
  T* out = c.out.as<T>();
  for (const Buffer& x : c.in) {
    std::memcpy(out, x.data, static_cast<std::size_t>(x.shape.size()) * sizeof(T));
    out += x.shape.size();
  }
  if (c.run.collectives)
    c.run.collectives->start(c.id, c.out.data, c.out.shape.size(), c.node.dtype);
}

Shape wait_shape(const ShapeCall& c) {
  const Node& start = c.graph.node(c.inputs[0]);
  if (start.op != OpKind::allreduce_start)
    throw ShapeError(fmt::format("{}: the operand must be an allreduce_start",
                                 operands(c, ",")));
  return start.shape;
}

template <class T>
void wait_kernel(const KernelCall& c) {
  if (c.run.collectives) c.run.collectives->wait(c.node.inputs[0]);
  if (c.out.data != c.in[0].data)
    std::memcpy(c.out.data, c.in[0].data, static_cast<std::size_t>(c.out.shape.size()) * sizeof(T));
}

Shape part_shape(const ShapeCall& c) {
  const Node& bucket = c.graph.node(c.inputs[0]);
  if (bucket.op != OpKind::allreduce_wait)
    throw ShapeError(fmt::format("{}: the operand must be an allreduce_wait", operands(c, ",")));
  const Shape s = given_shape(c);
  const std::int64_t offset = c.attrs.get<BucketAttrs>().offset;
  if (s.symbolic() || offset < 0 || offset + s.size() > bucket.shape.size())
    throw ShapeError(fmt::format("{}: {} values at offset {} do not fit a bucket of {}",
                                 operands(c, ","), to_string(s), offset,
                                 bucket.shape.size()));
  return s;
}

template <class T>
void part_kernel(const KernelCall& c) {
  std::memcpy(c.out.data, c.in[0].as<T>() + c.node.attr<BucketAttrs>().offset,
              static_cast<std::size_t>(c.out.shape.size()) * sizeof(T));
}

}  // namespace

extern const OpDef allreduce_start_op{OpKind::allreduce_start, "allreduce_start", -1, start_shape,
                                      DAGRAD_KERNELS(start_kernel), nullptr, false, 0, nullptr, -1};
extern const OpDef allreduce_wait_op{OpKind::allreduce_wait, "allreduce_wait", 1, wait_shape,
                                     DAGRAD_KERNELS(wait_kernel), nullptr, false, 0, nullptr, +1};
extern const OpDef allreduce_part_op{OpKind::allreduce_part, "allreduce_part", 1, part_shape,
                                     DAGRAD_KERNELS(part_kernel), nullptr, false, 0, nullptr, 0,
                                     attrs_index<BucketAttrs>()};

}  // namespace dagrad::ops
