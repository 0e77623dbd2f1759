// The reverse pass: walk the nodes between J and the requested nodes in
// reverse topological order; at each node sum the gradients that met there
// (fan-out), ask the op's rule for its operands' gradients, and sum each back
// to its operand's shape in unbroadcast(). Only nodes on a path from a
// requested node to J get gradient nodes.
#include "dagrad/autodiff/gradients.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <cstdio>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::autodiff {

Expr unbroadcast(Expr g, Shape shape) {
  const Shape s = g.shape();
  if (s == shape) return g;
  // A dimension of 1 in `shape` that is not 1 in g was broadcast (m counts as
  // more than 1). The column sum comes first, so a (1 x 1) bias of a (1 x m)
  // layer gets the notes' db = 1/m sum(dZ, axis=1) rather than the equal sum
  // over all.
  if (shape.cols == 1 && s.cols != 1 && shape.rows == s.rows) return sum(g, 1);
  if (shape.rows == 1 && s.rows != 1 && shape.cols == s.cols) return sum(g, 0);
  if (shape.rows == 1 && shape.cols == 1) return sum(g, -1);
  throw ShapeError(fmt::format("gradient {} of {} cannot be summed back to {}",
                               g.graph->describe(g.id), to_string(s), to_string(shape)));
}

namespace {

// Adds up the gradient contributions that met at one node.
Expr total(std::vector<Expr>& parts) {
  Expr acc = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) acc = acc + parts[i];
  return acc;
}

// Names the gradient of a named node as the notes do. For a parameter, dW1
// is the gradient itself. For an inner node the notes' dZ[l] and dA[l] leave
// out the 1/m of the mean cost (dZ[2] = A[2] - Y; dW[2] = 1/m dZ[2] A[1]^T),
// and the DSL keeps that scale outermost: so when the gradient is s * x, x is
// the node that gets the name.
void name_gradient(Graph& g, const Node& node, Expr gy) {
  if (node.name.empty() || g.find("d" + node.name)) return;
  const bool leaf = node.op == OpKind::param || node.op == OpKind::input;
  const Node& n = gy.node();
  if (!leaf && n.op == OpKind::affine && n.attr<AffineAttrs>().offset == 0.0) gy = g.expr(n.inputs[0]);
  if (gy.name().empty() && gy.node().role == Role::backward) g.set_name(gy.id, "d" + node.name);
}

void default_warning(const std::string& message) {
  fmt::print(stderr, "warning: {}\n", message);
}

}  // namespace

std::vector<Expr> gradients(Expr J, std::span<const Expr> wrt, const GradientOptions& options) {
  if (!J.valid()) throw GraphError("gradients: the cost is an empty expression");
  Graph& g = *J.graph;
  std::vector<NodeId> sources;
  for (Expr w : wrt) {
    if (w.graph != &g) throw GraphError("gradients: a requested node is in another graph");
    sources.push_back(w.id);
  }
  const NodeId targets[] = {J.id};
  const std::vector<bool> feeds_j = g.ancestors_of(targets);
  const std::vector<bool> from_wrt = g.descendants_of(sources);
  auto on_path = [&](NodeId id) { return feeds_j[id] && from_wrt[id]; };

  std::vector<std::vector<Expr>> parts(g.size());
  {
    BuildScope scope(g, Role::backward, J.node().layer);
    parts[J.id].push_back(g.constant(1.0, J.shape()));
  }
  std::vector<Expr> grad_of(g.size());

  // schedule() is the ancestors of J in topological order; walking it
  // backwards visits each node after all of its consumers.
  const std::vector<NodeId> order = g.schedule(targets);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const NodeId id = *it;
    if (!on_path(id) || parts[id].empty()) continue;
    const Node node = g.node(id);  // copy: the rule below grows the graph
    BuildScope scope(g, Role::backward, node.layer);
    Expr gy = total(parts[id]);
    if (options.name_gradients) name_gradient(g, node, gy);
    grad_of[id] = gy;
    const ops::OpDef& def = ops::op_def(node.op);
    if (!def.grad) continue;

    std::vector<Expr> x;
    std::vector<bool> wanted;
    for (NodeId in : node.inputs) {
      x.push_back(g.expr(in));
      wanted.push_back(on_path(in));
    }
    const std::vector<Expr> gx = def.grad(ops::GradCall{g, g.expr(id), x, gy, node.attrs, wanted});
    for (std::size_t k = 0; k < x.size(); ++k)
      if (wanted[k] && gx[k].valid()) parts[x[k].id].push_back(unbroadcast(gx[k], x[k].shape()));
  }

  std::vector<Expr> out;
  for (Expr w : wrt) {
    if (grad_of[w.id].valid()) {
      out.push_back(grad_of[w.id]);
      continue;
    }
    (options.warn ? options.warn : default_warning)(
        fmt::format("{} does not depend on {}; its gradient is zero", g.describe(J.id),
                    g.describe(w.id)));
    BuildScope scope(g, Role::backward, w.node().layer);
    out.push_back(g.constant(0.0, w.shape()));
  }
  return out;
}

std::vector<Expr> gradients(Expr J, std::initializer_list<Expr> wrt,
                            const GradientOptions& options) {
  return gradients(J, std::span<const Expr>(wrt.begin(), wrt.size()), options);
}

}  // namespace dagrad::autodiff
