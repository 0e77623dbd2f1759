// The rewriting machinery every pass shares. A pass walks the schedule of
// the requested outputs in topological order and re-adds each node to a new
// graph, after its operands; a rule may add something else instead. Because
// Graph::add hash-conses, the rebuilt graph never holds two identical nodes
// (common subexpressions merge), and because only scheduled nodes are
// visited, nodes that reach no output are dropped.
#pragma once

#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "dagrad/graph/graph.hpp"

namespace dagrad::passes {

inline constexpr NodeId no_node = std::numeric_limits<NodeId>::max();

// A pass's result: the new graph, the requested outputs in it (same order),
// and for each old node id the new id (no_node when the node was dropped).
struct Rewritten {
  Graph graph;
  std::vector<NodeId> outputs;
  std::vector<NodeId> map;
};

// What a rule sees: the old graph, the new graph built so far, the old->new
// map of the nodes visited so far, and how many readers each old node has
// among scheduled nodes (an output counts as one more reader).
struct RebuildContext {
  const Graph& in;
  Graph& out;
  std::vector<NodeId>& map;
  const std::vector<int>& uses;

  NodeId mapped(NodeId old) const { return map[old]; }
  const Node& node(NodeId old) const { return in.node(old); }
  // The old node's operands, mapped into the new graph.
  std::vector<NodeId> mapped_inputs(NodeId old) const;
  // True when `old` has exactly one reader, so a fused node may absorb it.
  bool single_use(NodeId old) const { return uses[old] == 1; }
};

// Returns the new node for `old`, or nullopt to copy it unchanged.
using Rule = std::function<std::optional<NodeId>(RebuildContext&, NodeId old)>;

// How many readers each node has among the nodes `schedule` runs, an output
// counting as one more (RebuildContext::uses).
std::vector<int> count_uses(const Graph& g, std::span<const NodeId> schedule,
                            std::span<const NodeId> outputs);

// Rebuilds `outputs` of `g` through `rule`. The new node keeps the old
// node's name (unless the name is taken), role and layer.
Rewritten rebuild(const Graph& g, std::span<const NodeId> outputs, const Rule& rule = {});

// first then second: maps ids of first's input graph to second's graph.
Rewritten then(Rewritten first, Rewritten second);

}  // namespace dagrad::passes
