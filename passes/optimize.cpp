#include "dagrad/passes/optimize.hpp"

#include <utility>

#include "dagrad/passes/cse.hpp"
#include "dagrad/passes/fold.hpp"
#include "dagrad/passes/fuse.hpp"
#include "dagrad/passes/fuse_net.hpp"
#include "dagrad/passes/sample_layout.hpp"

namespace dagrad::passes {

namespace {

Rewritten apply_rules(const Graph& g, std::span<const NodeId> outputs, const PassOptions& options) {
  using RuleFn = std::optional<NodeId> (*)(RebuildContext&, NodeId);
  const std::pair<bool, RuleFn> table[] = {
      {options.fold_constants, fold_constant_rule},   {options.fold_transposes, fold_transpose_rule},
      {options.fold_scales, fold_scale_rule},         {options.fuse_bias, fuse_bias_rule},
      {options.fuse_elementwise, fuse_elementwise_rule}, {options.fuse_updates, fuse_update_rule},
  };
  std::vector<RuleFn> rules;
  for (const auto& [on, rule] : table)
    if (on) rules.push_back(rule);
  // One rebuild applies every rule (each matches its operands in their
  // rewritten form, so a GEMM whose transposes were folded can still absorb
  // its scale or bias); the first rule that fires wins. It is also CSE. The
  // operands a fused node absorbed are left without readers, and a second
  // rebuild (compact) drops them.
  Rewritten r = rebuild(g, outputs, [&](RebuildContext& c, NodeId old) -> std::optional<NodeId> {
    for (RuleFn rule : rules)
      if (auto id = rule(c, old)) return id;
    return std::nullopt;
  });
  Rewritten last = compact(r.graph, r.outputs);
  return then(std::move(r), std::move(last));
}

// The sample inputs' layout, then the rules.
Rewritten lay_out_and_apply(const Graph& g, std::span<const NodeId> outputs, const PassOptions& options) {
  if (options.store_by_sample && options.capacity > 0)
    if (std::optional<Rewritten> s = store_samples_by_row(g, outputs, options.capacity)) {
      Rewritten rest = apply_rules(s->graph, s->outputs, options);
      return then(std::move(*s), std::move(rest));
    }
  return apply_rules(g, outputs, options);
}

}  // namespace

Rewritten optimize(const Graph& g, std::span<const NodeId> outputs, const PassOptions& options) {
  // A narrow network's step first: it reads the graph as autodiff and
  // train::minimize built it; the rules then fold what is left (alpha's
  // decay, Adam's bias corrections).
  if (options.fuse_nets)
    if (std::optional<Rewritten> f = fuse_nets(g, outputs)) {
      Rewritten rest = lay_out_and_apply(f->graph, f->outputs, options);
      return then(std::move(*f), std::move(rest));
    }
  return lay_out_and_apply(g, outputs, options);
}

}  // namespace dagrad::passes
