// Structural passes.
//   cse:     identical nodes (same op, operands, attributes) become one; a
//            rewrite can create duplicates that construction-time
//            hash-consing never saw. A plain rebuild (passes/rebuild.hpp).
//   compact: drops every node that reaches no output and renumbers the rest
//            densely in schedule order (Graph::schedule only skips them; this
//            removes them). The same graph as a plain rebuild gives, made by
//            copying the nodes (Graph::subgraph): a graph's nodes are already
//            distinct and their shapes checked.
#pragma once

#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

Rewritten cse(const Graph& g, std::span<const NodeId> outputs);
Rewritten compact(const Graph& g, std::span<const NodeId> outputs);

}  // namespace dagrad::passes
