#include "dagrad/passes/cse.hpp"

namespace dagrad::passes {

// NOTE: the two passes share one mechanism on purpose. Re-adding nodes in
// topological order through Graph::add merges duplicates (operands are
// merged before their consumers are looked up, so merging cascades), and
// walking only the schedule leaves dead nodes behind.
Rewritten cse(const Graph& g, std::span<const NodeId> outputs) { return rebuild(g, outputs); }

Rewritten compact(const Graph& g, std::span<const NodeId> outputs) { return rebuild(g, outputs); }

}  // namespace dagrad::passes
