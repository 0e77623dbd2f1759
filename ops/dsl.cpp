// The DSL builds nodes through Graph::add. A few algebraic identities are
// applied as nodes are built, so derived gradients come out in the form the
// notes write them (no "* 1", no scale chains, transposes inside the GEMM).
#include "dagrad/ops/dsl.hpp"

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad {

namespace {

Graph& graph_of(Expr a, Expr b) {
  if (!a.valid() || !b.valid()) throw GraphError("an operand is an empty expression");
  if (a.graph != b.graph) throw GraphError("operands belong to different graphs");
  return *a.graph;
}

Graph& graph_of(Expr x) {
  if (!x.valid()) throw GraphError("an operand is an empty expression");
  return *x.graph;
}

// The constant value of x when x is a constant node.
std::optional<double> constant_value(Expr x) {
  const Node& n = x.node();
  if (n.op != OpKind::constant) return std::nullopt;
  return n.attr<ConstantAttrs>().value;
}

// When `c` is the constant `value` and combining it with `other` would not
// change other's shape, the operation is the identity on `other`.
bool is_identity_operand(Expr c, Expr other, double value) {
  auto v = constant_value(c);
  if (!v || *v != value) return false;
  const Shape s = c.shape(), o = other.shape();
  return (s.rows == o.rows || s.rows == 1) && (s.cols == o.cols || s.cols == 1);
}

// When x = s * x' (an affine node without offset), returns s and sets x = x'.
// Linear ops use it to move a scale outward, so that the 1/m of a mean cost
// rides past dZ and dA to the parameter gradients: dW = 1/m dZ A^T with the
// notes' dZ = A - Y (and an optimizer pass folds it into the GEMM's alpha).
Scale peel_scale(Expr& x) {
  const Node& n = x.node();
  if (n.op != OpKind::affine || n.attr<AffineAttrs>().offset != 0.0) return 1.0;
  const Scale s = n.attr<AffineAttrs>().scale;
  x = x.graph->expr(n.inputs[0]);
  return s;
}

Expr binary(OpKind op, Expr a, Expr b) {
  Graph& g = graph_of(a, b);
  return g.add(op, {a.id, b.id});
}

Expr unary(OpKind op, Expr x, const Attrs& attrs = {}) {
  return graph_of(x).add(op, {x.id}, attrs);
}

}  // namespace

Expr matmul(Expr a, bool trans_a, Expr b, bool trans_b, Scale scale) {
  Graph& g = graph_of(a, b);
  if (const Scale s = peel_scale(a) * peel_scale(b); !s.is_one())
    return affine(matmul(a, trans_a, b, trans_b, scale), s, 0.0);
  MatmulAttrs attrs{scale, trans_a, trans_b};
  // Fold an operand's transpose into the GEMM flag; the transpose node then
  // has no consumer and is never scheduled.
  if (a.node().op == OpKind::transpose) {
    attrs.trans_a = !attrs.trans_a;
    a = g.expr(a.node().inputs[0]);
  }
  if (b.node().op == OpKind::transpose) {
    attrs.trans_b = !attrs.trans_b;
    b = g.expr(b.node().inputs[0]);
  }
  return g.add(OpKind::matmul, {a.id, b.id}, attrs);
}

Expr matmul(Expr a, Expr b, Scale scale) { return matmul(a, false, b, false, scale); }

Expr operator*(Expr a, Expr b) { return matmul(a, b); }

Expr operator+(Expr a, Expr b) {
  graph_of(a, b);
  if (is_identity_operand(a, b, 0.0)) return b;
  if (is_identity_operand(b, a, 0.0)) return a;
  return binary(OpKind::add, a, b);
}

Expr operator-(Expr a, Expr b) {
  graph_of(a, b);
  if (is_identity_operand(b, a, 0.0)) return a;
  return binary(OpKind::sub, a, b);
}

Expr mul(Expr a, Expr b) {
  graph_of(a, b);
  if (is_identity_operand(a, b, 1.0)) return b;
  if (is_identity_operand(b, a, 1.0)) return a;
  if (const Scale s = peel_scale(a) * peel_scale(b); !s.is_one()) return affine(mul(a, b), s, 0.0);
  return binary(OpKind::mul, a, b);
}

Expr operator/(Expr a, Expr b) {
  graph_of(a, b);
  if (is_identity_operand(b, a, 1.0)) return a;
  if (const Scale s = peel_scale(a) / peel_scale(b); !s.is_one()) return affine(a / b, s, 0.0);
  return binary(OpKind::div, a, b);
}

Expr operator-(Expr x) {
  const Node& n = graph_of(x).node(x.id);
  if (n.op == OpKind::neg) return x.graph->expr(n.inputs[0]);
  if (n.op == OpKind::affine || n.op == OpKind::constant) return affine(x, -1.0, 0.0);
  return unary(OpKind::neg, x);
}

Expr affine(Expr x, Scale scale, double offset) {
  Graph& g = graph_of(x);
  if (scale.is_one() && offset == 0.0) return x;
  const bool plain = scale.m_pow == 0;  // a number: no m to resolve at run time
  if (auto v = constant_value(x); v && plain)
    return g.constant(scale.value * *v + offset, x.shape());
  const Node& n = x.node();
  // s2 (s1 x + o1) + o2 = (s1 s2) x + (o1 s2 + o2), unless o1 s2 would hold m.
  if (n.op == OpKind::affine && (plain || n.attr<AffineAttrs>().offset == 0.0))
    return affine(g.expr(n.inputs[0]), n.attr<AffineAttrs>().scale * scale,
                  n.attr<AffineAttrs>().offset * scale.value + offset);
  if (scale == Scale(-1.0) && offset == 0.0) return unary(OpKind::neg, x);
  return g.add(OpKind::affine, {x.id}, AffineAttrs{scale, offset});
}

Expr operator*(Scale s, Expr x) { return affine(x, s, 0.0); }
Expr operator*(double s, Expr x) { return affine(x, s, 0.0); }
Expr operator*(Expr x, double s) { return affine(x, s, 0.0); }
Expr operator/(Expr x, double s) { return affine(x, 1.0 / s, 0.0); }
Expr operator+(Expr x, double o) { return affine(x, 1.0, o); }
Expr operator+(double o, Expr x) { return affine(x, 1.0, o); }
Expr operator-(Expr x, double o) { return affine(x, 1.0, -o); }
Expr operator-(double o, Expr x) { return affine(x, -1.0, o); }

Expr exp(Expr x) { return unary(OpKind::exp, x); }
Expr log(Expr x) { return unary(OpKind::log, x); }
Expr square(Expr x) { return unary(OpKind::square, x); }
Expr sqrt(Expr x) { return unary(OpKind::sqrt, x); }
Expr sigmoid(Expr z) { return unary(OpKind::sigmoid, z); }
Expr tanh(Expr z) { return unary(OpKind::tanh, z); }
Expr relu(Expr z) { return unary(OpKind::relu, z); }

Expr leaky_relu(Expr z, double slope) {
  return unary(OpKind::leaky_relu, z, SlopeAttrs{slope});
}

Expr step(Expr z, double slope) {
  return unary(OpKind::step, z, SlopeAttrs{slope});
}

Expr sum(Expr x, int axis, bool keepdims) {
  if (axis < -1 || axis > 1)
    throw ShapeError(fmt::format("sum {} {}: axis {} is not -1, 0 or 1",
                                 graph_of(x).describe(x.id), to_string(x.shape()), axis));
  SumAttrs attrs;
  attrs.axis = static_cast<std::int8_t>(axis);
  attrs.keepdims = keepdims;
  const Node& n = x.node();
  if (n.op == OpKind::affine && n.attr<AffineAttrs>().offset == 0.0) {
    // sum(s x) = s sum(x): the scale rides on the reduction (db = 1/m sum(dZ)).
    attrs.scale = n.attr<AffineAttrs>().scale;
    x = graph_of(x).expr(n.inputs[0]);
  }
  return unary(OpKind::sum, x, attrs);
}

namespace {
// 1/d for a dimension d: the number, or 1/m for the symbolic sample count.
Scale per(std::int64_t d) { return d == m_dim ? per_m : Scale(1.0 / static_cast<double>(d)); }
}  // namespace

Expr mean(Expr x, int axis, bool keepdims) {
  const Shape s = x.shape();
  const Scale factor = axis == -1 ? per(s.rows) * per(s.cols) : axis == 0 ? per(s.rows) : per(s.cols);
  return sum(factor * x, axis, keepdims);
}

Expr broadcast(Expr x, Shape shape) {
  if (x.shape() == shape) return x;
  return graph_of(x).add(OpKind::broadcast, {x.id}, {}, shape);
}

Expr transpose(Expr x) {
  if (x.node().op == OpKind::transpose) return graph_of(x).expr(x.node().inputs[0]);
  if (const Scale s = peel_scale(x); !s.is_one()) return affine(transpose(x), s, 0.0);
  return unary(OpKind::transpose, x);
}

Expr binary_cross_entropy(Expr A, Expr Y) {
  Graph& g = graph_of(A, Y);
  // A = sigmoid(Z): compute the cost from Z so that log(0) never occurs, and
  // so that the derived dZ is A - Y (ops/bce_logits.cpp).
  if (A.node().op == OpKind::sigmoid) return binary(OpKind::bce_logits, g.expr(A.node().inputs[0]), Y);
  return binary(OpKind::bce, A, Y);
}

Expr softmax(Expr Z) { return unary(OpKind::softmax, Z); }

Expr categorical_cross_entropy(Expr A, Expr Y) {
  Graph& g = graph_of(A, Y);
  if (A.node().op == OpKind::softmax) return binary(OpKind::softmax_ce, g.expr(A.node().inputs[0]), Y);
  return binary(OpKind::categorical_ce, A, Y);
}

Expr l2_penalty(std::span<const Expr> W, double lambda, std::int64_t m) {
  if (W.empty()) throw GraphError("l2_penalty needs at least one weight matrix");
  if (m <= 0 && m != m_dim) throw GraphError(fmt::format("l2_penalty: m = {} must be positive", m));
  Graph& g = graph_of(W[0]);
  std::vector<NodeId> ids;
  for (Expr w : W) ids.push_back(graph_of(w, W[0]).expr(w.id).id);
  return g.add(OpKind::l2_penalty, std::move(ids), L2Attrs{lambda, m});
}

Expr l2_penalty(std::initializer_list<Expr> W, double lambda, std::int64_t m) {
  return l2_penalty(std::span<const Expr>(W.begin(), W.size()), lambda, m);
}

Expr mean_squared_error(Expr A, Expr Y) { return binary(OpKind::mse, A, Y); }

Expr pow(Expr a, Expr b) { return binary(OpKind::pow, a, b); }

Expr assign(Expr target, Expr value) {
  Graph& g = graph_of(target, value);
  return g.add(OpKind::assign, {target.id, value.id});
}

Expr dropout_mask(Graph& g, Shape shape, double keep_prob, std::uint64_t seed) {
  return g.add(OpKind::dropout_mask, {}, MaskAttrs{keep_prob, seed}, shape);
}

Expr dropout(Expr A, Expr D) {
  Graph& g = graph_of(A, D);
  if (const Scale s = peel_scale(A); !s.is_one()) return affine(dropout(A, D), s, 0.0);
  // keep_prob is the mask's (1 when D is not a dropout mask, as before).
  const Attrs& d = D.node().attrs;
  const double keep_prob = d.is<MaskAttrs>() ? d.get<MaskAttrs>().keep_prob : 1.0;
  return g.add(OpKind::dropout, {A.id, D.id}, DropoutAttrs{keep_prob});
}

Expr dropout(Expr A, double keep_prob, std::uint64_t seed) {
  return dropout(A, dropout_mask(graph_of(A), A.shape(), keep_prob, seed));
}

}  // namespace dagrad
