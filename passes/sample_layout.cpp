#include "dagrad/passes/sample_layout.hpp"

#include <vector>

namespace dagrad::passes {

namespace {

bool k_heavy_input(const Node& n) {
  return n.op == OpKind::input && n.shape.cols == m_dim && n.shape.rows >= by_sample_min_features;
}

}  // namespace

std::optional<Rewritten> store_samples_by_row(const Graph& g, std::span<const NodeId> outputs,
                                              std::int64_t capacity) {
  if (capacity < by_sample_min_samples) return std::nullopt;
  const auto size = static_cast<NodeId>(g.size());
  std::vector<char> chosen(size, 0);
  bool any = false;
  for (NodeId id = 0; id < size; ++id)
    if (k_heavy_input(g.node(id))) chosen[id] = any = true;
  if (!any) return std::nullopt;
  // Every reader in the whole graph, scheduled or not, must be such a product.
  for (NodeId id = 0; id < size; ++id) {
    const Node& n = g.node(id);
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      if (!chosen[n.inputs[k]]) continue;
      const bool product = n.op == OpKind::matmul && k == 1 && n.shape.rows <= by_sample_max_units;
      if (!product) chosen[n.inputs[k]] = false;
    }
  }
  any = false;
  for (char c : chosen) any = any || c;
  if (!any) return std::nullopt;
  return rebuild(g, outputs, [&](RebuildContext& c, NodeId old) -> std::optional<NodeId> {
    const Node& n = c.node(old);
    if (chosen[old]) return c.out.add(OpKind::input, {}, n.attrs, Shape{n.shape.cols, n.shape.rows}).id;
    if (n.op != OpKind::matmul || !chosen[n.inputs[1]]) return std::nullopt;
    MatmulAttrs a = n.attr<MatmulAttrs>();
    a.trans_b = !a.trans_b;
    return c.out.add(OpKind::matmul, c.mapped_inputs(old), a).id;
  });
}

}  // namespace dagrad::passes
