// Which optimizer's equations an assign node is, found by building each
// optimizer's own equations (Optimizer::equations) on placeholder leaves and
// unifying them with the graph, node by node: no pass restates a layout.
#pragma once

#include <optional>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::optim {

// A parameter's update as the operands of a fused `update` node, in the
// matched graph: W, its moments, dW, alpha, the step's scalars; and the
// node's attributes (the hyper-parameters and the optimizer's rule).
struct UpdateMatch {
  const Optimizer* optimizer;
  std::vector<NodeId> operands;
  UpdateAttrs attrs;
};

// `assign` = assign(W, ...) as some optimizer's equations build it, each
// inner node read only by the update (`uses`, per node of g). nullopt for
// anything else.
std::optional<UpdateMatch> match_update(const Graph& g, const std::vector<int>& uses, NodeId assign);

}  // namespace dagrad::optim
