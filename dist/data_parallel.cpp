#include "dagrad/dist/data_parallel.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/passes/fuse_net.hpp"

namespace dagrad::dist {

namespace {

using passes::no_node;

// A summed value split into the part that depends on the samples (summed
// over processes) and the part that does not (the same on every process,
// added once), as nodes of the new graph; either may be absent.
struct Parts {
  NodeId per_sample = no_node, common = no_node;
};

class Rewriter {
 public:
  Rewriter(const Graph& g, std::span<const NodeId> outputs) : g_(g), out_{Graph(g.dtype()), {}, {}} {
    schedule_ = g.schedule(outputs);
    out_.map.assign(g.size(), no_node);
    out_.graph.reserve(schedule_.size() + 16);
    per_sample_.assign(g.size(), false);
    for (NodeId id : schedule_) {  // a shape with m, or an operand with one
      const Node& n = g.node(id);
      bool p = n.shape.symbolic();
      for (NodeId in : n.inputs) p = p || per_sample_[in];
      per_sample_[id] = p;
    }
  }

  const std::vector<NodeId>& schedule() const { return schedule_; }

  void copy(NodeId old) {
    const Node& n = g_.node(old);
    BuildScope scope(out_.graph, n.role, n.layer);
    std::vector<NodeId> ins;
    for (NodeId x : n.inputs) ins.push_back(out_.map[x]);
    const NodeId id = out_.graph.add(n.op, std::move(ins), n.attrs, n.shape).id;
    out_.map[old] = id;
    name(id, n.name);
  }

  Parts split(NodeId old) {
    if (!per_sample_[old]) return {no_node, out_.map[old]};
    const Node& n = g_.node(old);
    const bool linear = (n.op == OpKind::add || n.op == OpKind::sub) &&
                        g_.node(n.inputs[0]).shape == n.shape && g_.node(n.inputs[1]).shape == n.shape;
    if (!linear) return {out_.map[old], no_node};
    BuildScope scope(out_.graph, n.role, n.layer);
    const Parts a = split(n.inputs[0]), b = split(n.inputs[1]);
    return {combine(n.op, a.per_sample, b.per_sample), combine(n.op, a.common, b.common)};
  }

  // One bucket: its start, its wait and each value's sum, which becomes
  // what the old node maps to.
  void bucket(int number, std::span<const NodeId> olds, std::span<const Parts> parts) {
    Graph& G = out_.graph;
    BuildScope scope(G, Role::backward, g_.node(olds.front()).layer);
    std::vector<NodeId> packed;
    for (const Parts& p : parts) packed.push_back(p.per_sample);
    const NodeId start = G.add(OpKind::allreduce_start, packed).id;
    const NodeId wait = G.add(OpKind::allreduce_wait, {start}).id;
    name(start, fmt::format("bucket{}", number));
    name(wait, fmt::format("bucket{}_sum", number));
    std::int64_t offset = 0;
    for (std::size_t k = 0; k < olds.size(); ++k) {
      const Shape s = G.node(packed[k]).shape;
      const BucketAttrs at{offset};
      offset += s.size();
      NodeId sum = G.add(OpKind::allreduce_part, {wait}, at, s).id;
      if (parts[k].common != no_node) sum = G.add(OpKind::add, {sum, parts[k].common}).id;
      finish(olds[k], sum);
    }
  }

  // The value of `old` is `sum` from now on (a sum that needs no bucket:
  // the same on every process).
  void finish(NodeId old, NodeId sum) {
    out_.map[old] = sum;
    if (!g_.node(old).name.empty()) name(sum, g_.node(old).name + "_sum");
  }

  passes::Rewritten take(std::span<const NodeId> outputs) {
    for (NodeId o : outputs) out_.outputs.push_back(out_.map[o]);
    return std::move(out_);
  }

 private:
  NodeId combine(OpKind op, NodeId x, NodeId y) {
    if (y == no_node) return x;
    if (x == no_node) return op == OpKind::sub ? out_.graph.add(OpKind::neg, {y}).id : y;
    return out_.graph.add(op, {x, y}).id;
  }
  void name(NodeId id, const std::string& n) {
    if (!n.empty() && out_.graph.node(id).name.empty() && !out_.graph.find(n)) out_.graph.set_name(id, n);
  }

  const Graph& g_;
  passes::Rewritten out_;
  std::vector<NodeId> schedule_;
  std::vector<bool> per_sample_;
};

std::int64_t bytes_of(const Graph& g, NodeId id) {
  return g.node(id).shape.size() * static_cast<std::int64_t>(dtype_size(g.dtype()));
}

}  // namespace

DataParallelGraph data_parallel(const Graph& g, std::span<const NodeId> outputs,
                                std::span<const NodeId> sums, const DataParallelOptions& options) {
  if (!(options.bucket_mb > 0.0) || options.bucket_mb > 1e6)
    throw InputError(fmt::format("--bucket-mb {:g} must be in (0, 1e6]", options.bucket_mb));
  Rewriter r(g, outputs);
  for (NodeId s : sums)
    if (s >= g.size()) throw GraphError(fmt::format("data_parallel: unknown node %{}", s));
  // Readers of a sum read it after the buckets exist: they and everything
  // after them are rebuilt last.
  std::vector<bool> deferred = g.descendants_of(sums), is_sum(g.size(), false);
  for (NodeId s : sums) is_sum[s] = true;
  for (NodeId s : sums) {
    if (g.node(s).shape.symbolic())
      throw GraphError(fmt::format("data_parallel: {} {} holds the sample count m; only values of "
                                   "a fixed size are summed over processes",
                                   g.describe(s), to_string(g.node(s).shape)));
    for (NodeId in : g.node(s).inputs)
      if (deferred[in])
        throw GraphError(fmt::format("data_parallel: {} depends on another summed value", g.describe(s)));
  }
  for (NodeId s : sums) deferred[s] = false;
  std::vector<NodeId> order;  // the sums in the order the step produces them
  for (NodeId id : r.schedule()) {
    if (!deferred[id]) r.copy(id);
    if (is_sum[id]) order.push_back(id);
  }
  // Buckets of at most bucket_mb MiB, in that order (a value larger than
  // that is a bucket of its own).
  const auto limit = static_cast<std::int64_t>(options.bucket_mb * 1024 * 1024);
  DataParallelGraph result;
  std::vector<NodeId> olds;
  std::vector<Parts> parts;
  std::int64_t bytes = 0;
  auto flush = [&] {
    if (olds.empty()) return;
    r.bucket(static_cast<int>(result.buckets + 1), olds, parts);
    ++result.buckets;
    olds.clear();
    parts.clear();
    bytes = 0;
  };
  for (NodeId s : order) {
    const Parts p = r.split(s);
    if (p.per_sample == no_node) {  // the same on every process
      r.finish(s, p.common);
      continue;
    }
    if (!olds.empty() && bytes + bytes_of(g, s) > limit) flush();
    olds.push_back(s);
    parts.push_back(p);
    bytes += bytes_of(g, s);
  }
  flush();
  for (NodeId id : r.schedule())
    if (deferred[id]) r.copy(id);
  result.rewritten = r.take(outputs);
  return result;
}

passes::Rewritten data_parallel_step(const Graph& g, std::span<const NodeId> outputs,
                                     std::span<const NodeId> sums, const DataParallelOptions& options,
                                     const passes::PassOptions& passes) {
  passes::PassOptions rest = passes;
  rest.fuse_nets = false;  // done here, or not at all
  if (passes.fuse_nets)
    if (std::optional<passes::Rewritten> f = passes::fuse_nets(g, outputs, true)) {
      std::vector<NodeId> G;  // the gradients stage's value
      for (NodeId id = 0; id < f->graph.size(); ++id)
        if (const Node& n = f->graph.node(id);
            n.op == OpKind::fused_net && n.attr<FusedNetAttrs>().stage == FusedStage::gradients)
          G.push_back(id);
      DataParallelGraph dp = data_parallel(f->graph, f->outputs, G, options);
      passes::Rewritten opt = passes::optimize(dp.rewritten.graph, dp.rewritten.outputs, rest);
      return passes::then(passes::then(std::move(*f), std::move(dp.rewritten)), std::move(opt));
    }
  DataParallelGraph dp = data_parallel(g, outputs, sums, options);
  passes::Rewritten opt = passes::optimize(dp.rewritten.graph, dp.rewritten.outputs, rest);
  return passes::then(std::move(dp.rewritten), std::move(opt));
}

std::string describe_buckets(const Graph& g, std::span<const NodeId> schedule, std::int64_t m) {
  std::vector<std::size_t> step(g.size(), std::numeric_limits<std::size_t>::max());
  for (std::size_t s = 0; s < schedule.size(); ++s) step[schedule[s]] = s;
  std::string out;
  int number = 0;
  for (std::size_t s = 0; s < schedule.size(); ++s) {
    const Node& start = g.node(schedule[s]);
    if (start.op != OpKind::allreduce_start) continue;
    std::vector<std::string> names;
    NodeId last = start.inputs.front();
    for (NodeId in : start.inputs) {
      names.push_back(g.describe(in));
      if (step[in] > step[last] || step[last] == std::numeric_limits<std::size_t>::max()) last = in;
    }
    // The wait, and the first node after it that reads one of its sums.
    NodeId wait = schedule[s], reader = schedule[s];
    for (NodeId c : g.consumers(schedule[s]))
      if (g.node(c).op == OpKind::allreduce_wait) wait = c;
    std::size_t first = schedule.size();
    for (NodeId part : g.consumers(wait))
      for (NodeId c : g.consumers(part))
        if (step[c] < first) first = step[c], reader = c;
    // Named as its nodes are (bucketK, bucketK_sum), so the lines match the schedule above.
    ++number;
    const std::string label = start.name.empty() ? fmt::format("bucket {}", number) : start.name;
    out += fmt::format("  {} ({} bytes): {}\n    starts at step {} (after {}), waited for at step {}",
                       label, start.shape.size() * static_cast<std::int64_t>(dtype_size(g.dtype())),
                       fmt::join(names, ", "), s, g.describe(last), step[wait]);
    if (first < schedule.size()) out += fmt::format(", first read at step {} by {}", first, g.describe(reader));
    // What its sum can hide behind: the GEMMs that run between its start
    // and its wait (at m samples). None: the whole sum is an exposed wait.
    double macs = 0;
    std::vector<std::string> gemms;
    for (std::size_t k = s + 1; k < step[wait] && k < schedule.size(); ++k)
      if (const auto key = ops::node_gemm_key(g, schedule[k], m)) {
        macs += double(key->M) * double(key->N) * double(key->K);
        gemms.push_back(g.describe(schedule[k]));
      }
    if (gemms.empty())
      out += "\n    no GEMM runs between its start and its wait: its whole sum is waited for\n";
    else
      out += fmt::format("\n    overlaps {} GEMM{} ({:.3g} M multiply-adds at m = {}): {}\n", gemms.size(),
                         gemms.size() == 1 ? "" : "s", macs * 1e-6, m, fmt::join(gemms, ", "));
  }
  return out;
}

}  // namespace dagrad::dist
