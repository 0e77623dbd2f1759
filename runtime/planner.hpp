// The memory planner: every computed value gets an interval of schedule steps
// [first, last] (its definition to its last reader; outputs live to the end)
// and a slot in one arena. Values whose intervals overlap never share bytes;
// the others do. Slots are placed greedily, largest first, each at the
// best-fitting gap among the slots it overlaps in time (graphs of more than
// 3000 slots use a linear scan with a best-fit free list instead). An element-wise node
// whose operand dies at that very step writes in place over the operand.
// Inputs, parameters and state are bound to caller memory and are not in the
// arena, nor are the nodes that write into them (assign, the fused updates).
// A graph with the symbolic sample count m is planned for a capacity: each
// value gets the bytes of its shape at m = capacity, and a run with fewer
// samples uses the front of each slot. A kernel's scratch (OpDef::workspace:
// the fused narrow-net step's per-block sums) is a group of its own, live
// at its node's step alone.
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "dagrad/graph/graph.hpp"

namespace dagrad::runtime {

struct PlanOptions {
  bool share = true;     // false: every value gets its own slot (debugging)
  bool in_place = true;  // element-wise ops may overwrite a dying operand
};

constexpr std::size_t no_slot = std::numeric_limits<std::size_t>::max();

// Every slot starts at a multiple of this many bytes (a cache line, and the
// widest vector load); the executor allocates the arena at the same one.
constexpr std::size_t arena_alignment = 64;
constexpr std::size_t round_up_to_alignment(std::size_t n) {
  return (n + arena_alignment - 1) / arena_alignment * arena_alignment;
}

// One scheduled node's buffer. `group` indexes MemoryPlan::groups; values in
// one group (an in-place chain) share a slot.
struct PlannedValue {
  NodeId id = 0;
  std::size_t bytes = 0;        // 64-byte rounded; 0 for bound leaves and their writers
  std::size_t first = 0, last = 0;  // schedule steps, inclusive
  std::size_t group = no_slot;  // no_slot for bound leaves and the nodes writing them
  std::size_t workspace = no_slot;  // the group of the kernel's scratch (OpDef::workspace), if any
};

struct SlotGroup {
  std::size_t bytes = 0;
  std::size_t first = 0, last = 0;
  std::size_t offset = 0;       // into the arena
  bool persistent = false;      // holds an output: lives to the end
  std::vector<NodeId> members;  // in schedule order (a workspace: its node)
};

struct MemoryPlan {
  std::vector<NodeId> schedule;
  std::vector<PlannedValue> values;  // one per schedule step, same order
  std::vector<SlotGroup> groups;
  std::size_t arena_bytes = 0;       // the peak: what the executor allocates
  std::size_t lower_bound = 0;       // max over steps of the live groups' bytes
  std::size_t unshared_bytes = 0;    // the sum of all groups: no sharing at all
  std::int64_t capacity = 0;         // the m the bytes are for (0: no symbolic m)
};

// Whether a scheduled node's value lives in caller memory: the bound leaves
// (input, param, state) and the nodes that write into one (OpDef::writes:
// their value is the leaf after the write).
bool in_caller_memory(OpKind op);

// Plans `outputs` of `graph` for `capacity` samples (used when a shape holds
// m). Throws GraphError for an unknown output id.
MemoryPlan plan_memory(const Graph& graph, std::span<const NodeId> outputs,
                       const PlanOptions& options = {}, std::int64_t capacity = 0);
// The same for an already computed schedule of those outputs.
MemoryPlan plan_memory(const Graph& graph, std::span<const NodeId> outputs,
                       std::vector<NodeId> schedule, const PlanOptions& options,
                       std::int64_t capacity);

// Throws GraphError naming both nodes if two groups whose intervals overlap
// also overlap in the arena. Tests run it on random DAGs.
void check_plan(const Graph& graph, const MemoryPlan& plan);

// The plan as text: one line per step (node, op, shape, bytes, slot offset
// and interval), then peak and lower bound. `dagrad plan` prints it.
std::string describe_plan(const Graph& graph, const MemoryPlan& plan);

}  // namespace dagrad::runtime
