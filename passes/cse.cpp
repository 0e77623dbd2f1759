#include "dagrad/passes/cse.hpp"

namespace dagrad::passes {

// Re-adding nodes in topological order through Graph::add merges duplicates
// (operands are merged before their consumers are looked up, so merging
// cascades), and walking only the schedule leaves dead nodes behind.
Rewritten cse(const Graph& g, std::span<const NodeId> outputs) { return rebuild(g, outputs); }

// NOTE: rebuild's walk without its Graph::add: each node of a graph is
// already unique, so re-adding it would only look itself up in vain and
// check its shape again. The ids are rebuild's (the schedule's order).
Rewritten compact(const Graph& g, std::span<const NodeId> outputs) {
  Rewritten r{Graph(g.dtype()), {}, {}};
  r.graph = g.subgraph(g.schedule(outputs), r.map);
  for (NodeId o : outputs) r.outputs.push_back(r.map[o]);
  return r;
}

}  // namespace dagrad::passes
