// Structural passes: both are a plain rebuild (passes/rebuild.hpp).
//   cse:     identical nodes (same op, operands, attributes) become one; a
//            rewrite can create duplicates that construction-time
//            hash-consing never saw.
//   compact: drops every node that reaches no output and renumbers the rest
//            densely (Graph::schedule only skips them; this removes them).
#pragma once

#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

Rewritten cse(const Graph& g, std::span<const NodeId> outputs);
Rewritten compact(const Graph& g, std::span<const NodeId> outputs);

}  // namespace dagrad::passes
