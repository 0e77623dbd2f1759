#include "dagrad/runtime/planner.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <numeric>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::runtime {

namespace {

// Greedy by size is quadratic in the worst case (it compares each group with
// the placed ones live beside it); above this many groups the planner uses a
// linear scan, whose peak is usually a little higher.
constexpr std::size_t greedy_limit = 3000;



// Ops whose kernel computes out[i] from in[i] alone (map_unary, map_binary or a
// vector loop that loads before it stores), so out may alias a same-shape
// operand. NOTE: softmax, sum, matmul and broadcast read other elements after
// writing and must never run in place.
bool elementwise(OpKind op) {
  switch (op) {
    case OpKind::add: case OpKind::sub: case OpKind::mul: case OpKind::div:
    case OpKind::neg: case OpKind::affine: case OpKind::exp: case OpKind::log:
    case OpKind::square: case OpKind::sqrt: case OpKind::sigmoid: case OpKind::tanh:
    case OpKind::relu: case OpKind::leaky_relu: case OpKind::step: case OpKind::dropout:
    case OpKind::step_mul: case OpKind::tanh_grad_mul: case OpKind::sigmoid_grad_mul:
    case OpKind::allreduce_wait:  // the sum arrives in the bucket's own buffer
      return true;
    default:
      return false;
  }
}

// Last reader of each scheduled node; outputs are read after the last step.
std::vector<std::size_t> last_uses(const Graph& g, const std::vector<NodeId>& schedule,
                                   std::span<const NodeId> outputs, std::vector<std::size_t>& step_of) {
  std::vector<std::size_t> last(g.size(), 0);
  for (std::size_t s = 0; s < schedule.size(); ++s) {
    step_of[schedule[s]] = s;
    last[schedule[s]] = s;
    for (NodeId in : g.node(schedule[s]).inputs) last[in] = std::max(last[in], s);
  }
  for (NodeId o : outputs) last[o] = schedule.size();
  return last;
}

// Forms the slot groups: each computed value starts its own group unless it
// can take over the group of an operand that dies at this step.
void form_groups(const Graph& g, MemoryPlan& plan, const std::vector<std::size_t>& last,
                 const std::vector<bool>& is_output, const PlanOptions& opt) {
  const std::int64_t m = std::max<std::int64_t>(plan.capacity, 1);
  std::vector<std::size_t> group_of(g.size(), no_slot);
  for (std::size_t s = 0; s < plan.schedule.size(); ++s) {
    const NodeId id = plan.schedule[s];
    const Node& n = g.node(id);
    PlannedValue v{id, 0, s, std::min(last[id], plan.schedule.size() - 1), no_slot};
    if (!in_caller_memory(n.op)) {
      v.bytes = round_up_to_alignment(checked_bytes(n.shape.at(m), n.dtype, [&] { return g.describe(id); }));
      if (opt.in_place && opt.share && elementwise(n.op)) {
        for (NodeId in : n.inputs) {
          const std::size_t gi = group_of[in];
          if (gi == no_slot || plan.groups[gi].persistent || last[in] != s) continue;
          if (g.node(in).shape != n.shape || plan.groups[gi].bytes != v.bytes) continue;
          v.group = gi;
          break;
        }
      }
      if (v.group == no_slot) {
        v.group = plan.groups.size();
        plan.groups.push_back(SlotGroup{v.bytes, s, s, 0, false, {}});
      }
      SlotGroup& grp = plan.groups[v.group];
      grp.last = std::max(grp.last, v.last);
      grp.persistent = grp.persistent || is_output[id];
      grp.members.push_back(id);
      group_of[id] = v.group;
    }
    // The kernel's scratch: live at this step only, beside its operands and value.
    if (const auto scratch = ops::op_def(n.op).workspace) {
      const std::size_t bytes = round_up_to_alignment(scratch(g, n, m));
      if (bytes > 0) {
        v.workspace = plan.groups.size();
        plan.groups.push_back(SlotGroup{bytes, s, s, 0, false, {id}});
      }
    }
    plan.values.push_back(v);
  }
}

bool overlap(const SlotGroup& a, const SlotGroup& b) {
  return a.first <= b.last && b.first <= a.last;
}

// Placed groups, indexed two ways: by offset (for the best-fit scan) and by
// blocks of schedule steps (to find the few groups live at the same time as
// a short-lived one without scanning all of them).
class Placement {
 public:
  Placement(std::vector<SlotGroup>& groups, std::size_t steps)
      : groups_(groups), blocks_(steps / block + 1), stamp_(groups.size(), no_slot) {}

  // The best-fitting offset for `gi` among the placed groups live with it.
  std::size_t fit(std::size_t gi) {
    const SlotGroup& grp = groups_[gi];
    std::size_t estimate = 0;
    for (std::size_t b = grp.first / block; b <= grp.last / block; ++b) estimate += blocks_[b].size();
    if (estimate * 8 < by_offset_.size()) return fit_sorted(grp, gather(gi));
    std::vector<std::size_t> all;
    for (const auto& [off, pj] : by_offset_)
      if (overlap(grp, groups_[pj])) all.push_back(pj);
    return best_gap(grp, all);
  }

  void insert(std::size_t gi) {
    const SlotGroup& grp = groups_[gi];
    by_offset_.emplace(grp.offset, gi);
    for (std::size_t b = grp.first / block; b <= grp.last / block; ++b) blocks_[b].push_back(gi);
  }

 private:
  static constexpr std::size_t block = 64;

  std::vector<std::size_t> gather(std::size_t gi) {
    const SlotGroup& grp = groups_[gi];
    std::vector<std::size_t> live;
    for (std::size_t b = grp.first / block; b <= grp.last / block; ++b)
      for (std::size_t pj : blocks_[b])
        if (stamp_[pj] != gi && overlap(grp, groups_[pj])) {
          stamp_[pj] = gi;
          live.push_back(pj);
        }
    return live;
  }

  std::size_t fit_sorted(const SlotGroup& grp, std::vector<std::size_t> live) {
    std::sort(live.begin(), live.end(),
              [&](std::size_t a, std::size_t b) { return groups_[a].offset < groups_[b].offset; });
    return best_gap(grp, live);
  }

  // `live` sorted by offset: the smallest gap that holds grp, else the top.
  std::size_t best_gap(const SlotGroup& grp, const std::vector<std::size_t>& live) const {
    std::size_t cursor = 0, best = no_slot, best_gap = no_slot;
    for (std::size_t pj : live) {
      const SlotGroup& o = groups_[pj];
      if (o.offset >= cursor + grp.bytes && o.offset - cursor < best_gap) {
        best = cursor;
        best_gap = o.offset - cursor;
      }
      cursor = std::max(cursor, o.offset + o.bytes);
    }
    return best != no_slot ? best : cursor;
  }

  std::vector<SlotGroup>& groups_;
  std::multimap<std::size_t, std::size_t> by_offset_;
  std::vector<std::vector<std::size_t>> blocks_;
  std::vector<std::size_t> stamp_;
};

// Free arena blocks, by offset and by size, with neighbours merged on release.
class FreeList {
 public:
  // Best fit: the smallest free block that holds `bytes`, else the top.
  std::size_t take(std::size_t bytes) {
    auto it = by_size_.lower_bound(bytes);
    if (it == by_size_.end()) {
      const std::size_t at = top_;
      top_ += bytes;
      peak_ = std::max(peak_, top_);
      return at;
    }
    const auto [size, off] = *it;
    by_size_.erase(it);
    by_off_.erase(off);
    if (size > bytes) add(off + bytes, size - bytes);
    return off;
  }

  void release(std::size_t off, std::size_t bytes) {
    auto next = by_off_.find(off + bytes);
    if (next != by_off_.end()) {
      bytes += next->second;
      drop(next);
    }
    auto after = by_off_.lower_bound(off);
    if (after != by_off_.begin()) {
      auto prev = std::prev(after);
      if (prev->first + prev->second == off) {
        off = prev->first;
        bytes += prev->second;
        drop(prev);
      }
    }
    if (off + bytes == top_) top_ = off;  // the top block shrinks the arena
    else add(off, bytes);
  }

  std::size_t peak() const { return peak_; }

 private:
  void add(std::size_t off, std::size_t bytes) {
    by_off_.emplace(off, bytes);
    by_size_.emplace(bytes, off);
  }
  void drop(std::map<std::size_t, std::size_t>::iterator it) {
    auto [first, last] = by_size_.equal_range(it->second);
    for (auto s = first; s != last; ++s)
      if (s->second == it->first) {
        by_size_.erase(s);
        break;
      }
    by_off_.erase(it);
  }

  std::map<std::size_t, std::size_t> by_off_;
  std::multimap<std::size_t, std::size_t> by_size_;
  std::size_t top_ = 0, peak_ = 0;
};

// Linear scan for big graphs (O(n log n)): groups in order of their first
// step (the order form_groups made them), each taking the best-fitting free
// block once the groups that died before it have been released.
void place_linear(MemoryPlan& plan) {
  using Live = std::pair<std::size_t, std::size_t>;  // (last step, group)
  std::priority_queue<Live, std::vector<Live>, std::greater<>> live;
  FreeList free;
  for (std::size_t gi = 0; gi < plan.groups.size(); ++gi) {
    SlotGroup& grp = plan.groups[gi];
    while (!live.empty() && live.top().first < grp.first) {
      const SlotGroup& dead = plan.groups[live.top().second];
      free.release(dead.offset, dead.bytes);
      live.pop();
    }
    grp.offset = free.take(grp.bytes);
    live.emplace(grp.last, gi);
  }
  plan.arena_bytes = free.peak();
}

// Greedy by size: largest groups first; each goes into the smallest gap
// between the slots of already placed groups that are live at the same time.
void place_groups(MemoryPlan& plan, const PlanOptions& opt) {
  if (!opt.share) {  // one slot each, back to back
    for (SlotGroup& grp : plan.groups) {
      grp.offset = plan.arena_bytes;
      plan.arena_bytes += grp.bytes;
    }
    return;
  }
  if (plan.groups.size() > greedy_limit) return place_linear(plan);
  std::vector<std::size_t> order(plan.groups.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return plan.groups[a].bytes > plan.groups[b].bytes;
  });
  Placement placed(plan.groups, plan.schedule.size());
  for (std::size_t gi : order) {
    SlotGroup& grp = plan.groups[gi];
    grp.offset = placed.fit(gi);
    plan.arena_bytes = std::max(plan.arena_bytes, grp.offset + grp.bytes);
    placed.insert(gi);
  }
}

// max over steps of the bytes of the groups live at that step, by a sweep
// over interval starts and ends.
std::size_t live_lower_bound(const MemoryPlan& plan) {
  std::vector<std::int64_t> delta(plan.schedule.size() + 1, 0);
  for (const SlotGroup& grp : plan.groups) {
    delta[grp.first] += static_cast<std::int64_t>(grp.bytes);
    delta[grp.last + 1] -= static_cast<std::int64_t>(grp.bytes);
  }
  std::int64_t live = 0, peak = 0;
  for (std::int64_t d : delta) peak = std::max(peak, live += d);
  return static_cast<std::size_t>(peak);
}

}  // namespace

bool in_caller_memory(OpKind op) {
  return op == OpKind::input || op == OpKind::param || op == OpKind::state ||
         ops::op_def(op).writes != 0;
}

MemoryPlan plan_memory(const Graph& graph, std::span<const NodeId> outputs,
                       const PlanOptions& options, std::int64_t capacity) {
  return plan_memory(graph, outputs, graph.schedule(outputs), options, capacity);
}

MemoryPlan plan_memory(const Graph& graph, std::span<const NodeId> outputs,
                       std::vector<NodeId> schedule, const PlanOptions& options,
                       std::int64_t capacity) {
  MemoryPlan plan;
  plan.schedule = std::move(schedule);
  plan.capacity = capacity;
  std::vector<bool> is_output(graph.size(), false);
  for (NodeId o : outputs) is_output[o] = true;
  std::vector<std::size_t> step_of(graph.size(), 0);
  const std::vector<std::size_t> last = last_uses(graph, plan.schedule, outputs, step_of);
  form_groups(graph, plan, last, is_output, options);
  for (SlotGroup& grp : plan.groups) {
    if (grp.persistent) grp.last = plan.schedule.size() - 1;
    plan.unshared_bytes += grp.bytes;
  }
  place_groups(plan, options);
  plan.lower_bound = live_lower_bound(plan);
  return plan;
}

void check_plan(const Graph& graph, const MemoryPlan& plan) {
  for (std::size_t a = 0; a < plan.groups.size(); ++a)
    for (std::size_t b = a + 1; b < plan.groups.size(); ++b) {
      const SlotGroup& x = plan.groups[a];
      const SlotGroup& y = plan.groups[b];
      const bool bytes_overlap = x.offset < y.offset + y.bytes && y.offset < x.offset + x.bytes;
      if (overlap(x, y) && bytes_overlap && x.bytes > 0 && y.bytes > 0)
        throw GraphError(fmt::format(
            "memory plan: {} (steps {}-{}, bytes {}-{}) and {} (steps {}-{}, bytes {}-{}) "
            "are live together but share memory",
            graph.describe(x.members.front()), x.first, x.last, x.offset, x.offset + x.bytes,
            graph.describe(y.members.front()), y.first, y.last, y.offset, y.offset + y.bytes));
    }
}

std::string describe_plan(const Graph& graph, const MemoryPlan& plan) {
  std::string out = fmt::format("{:>5}  {:<18} {:<27} {:<11} {:>10} {:>10}  {}\n", "step", "node",
                                "op", "shape", "bytes", "offset", "live steps");
  for (std::size_t s = 0; s < plan.values.size(); ++s) {
    const PlannedValue& v = plan.values[s];
    const Node& n = graph.node(v.id);
    const bool bound = v.group == no_slot;
    const SlotGroup* grp = bound ? nullptr : &plan.groups[v.group];
    const bool shared = grp && grp->members.front() != v.id;
    std::string where = bound ? std::string("caller memory") : "";
    std::vector<std::string> targets;  // an update: the leaves it overwrites
    for (std::size_t k = 0; k < n.inputs.size(); ++k)
      if (ops::writes_operand(n, k)) targets.push_back(graph.describe(n.inputs[k]));
    if (!targets.empty()) where = fmt::format("writes {} in place", fmt::join(targets, ", "));
    if (v.workspace != no_slot)
      where += fmt::format("{}workspace {} bytes at {}", where.empty() ? "" : "; ",
                           plan.groups[v.workspace].bytes, plan.groups[v.workspace].offset);
    out += fmt::format("{:>5}  {:<18} {:<27} {:<11} {:>10} {:>10}  {}{}\n", s, graph.describe(v.id),
                       ops::op_def(n.op).name, to_string(n.shape),
                       bound ? std::string("bound") : fmt::format("{}", v.bytes),
                       bound ? std::string("-") : fmt::format("{}", grp->offset),
                       bound ? where
                             : fmt::format("{}-{}{}{}", v.first, v.last,
                                           grp->persistent ? " output" : "",
                                           shared ? fmt::format(" (in place over {})",
                                                                graph.describe(grp->members.front()))
                                                  : ""),
                       !bound && !where.empty() ? "; " + where : "");
  }
  const double ratio = plan.lower_bound ? double(plan.arena_bytes) / double(plan.lower_bound) : 1.0;
  out += fmt::format("peak arena bytes {}  lower bound from liveness {}  ratio {:.3f}  "
                     "(no sharing: {}){}\n",
                     plan.arena_bytes, plan.lower_bound, ratio, plan.unshared_bytes,
                     plan.capacity > 0 ? fmt::format("  for m = {} samples", plan.capacity) : "");
  return out;
}

}  // namespace dagrad::runtime
