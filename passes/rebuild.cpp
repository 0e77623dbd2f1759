#include "dagrad/passes/rebuild.hpp"

namespace dagrad::passes {

std::vector<NodeId> RebuildContext::mapped_inputs(NodeId old) const {
  const std::vector<NodeId>& olds = in.node(old).inputs;
  std::vector<NodeId> ins;
  ins.reserve(olds.size());
  for (NodeId x : olds) ins.push_back(map[x]);
  return ins;
}

std::vector<int> count_uses(const Graph& g, std::span<const NodeId> schedule,
                            std::span<const NodeId> outputs) {
  std::vector<int> uses(g.size(), 0);
  for (NodeId id : schedule)
    for (NodeId x : g.node(id).inputs) ++uses[x];
  for (NodeId o : outputs) ++uses[o];
  return uses;
}

namespace {

NodeId copy_node(RebuildContext& c, NodeId old) {
  const Node& n = c.in.node(old);
  return c.out.add(n.op, c.mapped_inputs(old), n.attrs, n.shape).id;
}

}  // namespace

Rewritten rebuild(const Graph& g, std::span<const NodeId> outputs, const Rule& rule) {
  const std::vector<NodeId> schedule = g.schedule(outputs);
  const std::vector<int> uses = count_uses(g, schedule, outputs);
  Rewritten r{Graph(g.dtype()), {}, std::vector<NodeId>(g.size(), no_node)};
  r.graph.reserve(schedule.size());  // at most one node per scheduled node, usually
  RebuildContext ctx{g, r.graph, r.map, uses};
  for (NodeId old : schedule) {
    const Node& n = g.node(old);
    BuildScope scope(r.graph, n.role, n.layer);
    std::optional<NodeId> made;
    if (rule) made = rule(ctx, old);
    const NodeId id = made ? *made : copy_node(ctx, old);
    r.map[old] = id;
    if (!n.name.empty() && r.graph.node(id).name.empty() && !r.graph.find(n.name))
      r.graph.set_name(id, n.name);
  }
  for (NodeId o : outputs) r.outputs.push_back(r.map[o]);
  return r;
}

Rewritten then(Rewritten first, Rewritten second) {
  for (NodeId& id : first.map)
    if (id != no_node) id = second.map[id];
  second.map = std::move(first.map);
  return second;
}

}  // namespace dagrad::passes
