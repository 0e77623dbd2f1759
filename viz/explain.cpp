// Renders expression trees of the backward graph in the notes' notation.
// Precedence decides parentheses: sums bind loosest, then the element-wise
// product `*`, then a scaled term "1/m x", then juxtaposed matrix products
// "W[2]^T dZ[2]", then atoms (names, powers, calls).
#include "dagrad/viz/explain.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "dagrad/ops/op.hpp"

namespace dagrad::viz {

namespace {

enum Prec { kAdd = 1, kScaled = 2, kMul = 3, kJuxt = 4, kNeg = 5, kAtom = 6 };

struct Text {
  std::string s;
  int prec = kAtom;
  bool is_mul = false;  // an element-wise product: a * b * c needs no parentheses
};

class Renderer {
 public:
  Renderer(const Graph& g, const Notation& nt, Style style) : g_(g), nt_(nt), style_(style) {}

  // Nodes that get a line of their own are referred to by `label`.
  void set_label(NodeId id, std::string label) { labels_[id] = std::move(label); }
  bool has_label(NodeId id) const { return labels_.count(id) != 0; }
  const std::string& label(NodeId id) const { return labels_.at(id); }

  // The expression of `id` itself (never its own label).
  Text expand(NodeId id) const;

 private:
  Text ref(NodeId id) const {
    if (auto it = labels_.find(id); it != labels_.end()) return {it->second};
    const Node& n = g_.node(id);
    if (!n.name.empty() && n.role != Role::backward) return {nt_.name(n.name, style_)};
    return expand(id);
  }
  std::string wrap(const Text& t, int min_prec) const {
    return t.prec >= min_prec ? t.s : paren(t.s);
  }
  std::string paren(const std::string& s) const {
    return style_ == Style::latex ? "\\left(" + s + "\\right)" : "(" + s + ")";
  }
  std::string sup(const Text& t, std::string_view p) const {
    if (style_ == Style::latex) return fmt::format("{{{}}}^{{{}}}", wrap(t, kAtom), p);
    return fmt::format("{}^{}", wrap(t, kAtom), p);
  }
  std::string scale_text(Scale s, bool lambda_first, bool update = false) const {
    if (update && s.m_pow == 0)
      if (auto h = nt_.hyper(s.value, style_)) return *h;
    if (auto sym = nt_.scale(s, style_, lambda_first)) return *sym;
    return format_number(s.value);
  }
  // A number of an optimizer's update: beta1, (1 - beta1), epsilon, ...
  std::string number(double v, bool update) const {
    if (update)
      if (auto h = nt_.hyper(v, style_)) return *h;
    return format_number(v);
  }
  std::string keep_prob() const {
    return style_ == Style::latex ? "\\text{keep\\_prob}" : "keep_prob";
  }
  std::string call(std::string_view f, const std::string& arg) const;

  Text matmul(const Node& n) const;
  Text affine(const Node& n) const;
  Text sum(const Node& n) const;
  Text step(const Node& n) const;

  const Graph& g_;
  const Notation& nt_;
  Style style_;
  std::unordered_map<NodeId, std::string> labels_;
};

std::string Renderer::call(std::string_view f, const std::string& arg) const {
  if (style_ == Style::text) return fmt::format("{}({})", f, arg);
  if (f == "sigmoid") return fmt::format("\\sigma\\left({}\\right)", arg);
  if (f == "sqrt") return fmt::format("\\sqrt{{{}}}", arg);
  if (f == "exp" || f == "log" || f == "tanh") return fmt::format("\\{}\\left({}\\right)", f, arg);
  return fmt::format("\\operatorname{{{}}}\\left({}\\right)", f, arg);
}

// scale op(a) op(b): "W[2]^T dZ[2]", "1/m dZ[2] A[1]^T".
Text Renderer::matmul(const Node& n) const {
  const Text a = ref(n.inputs[0]), b = ref(n.inputs[1]);
  const MatmulAttrs& at = n.attr<MatmulAttrs>();
  const std::string sa = at.trans_a ? sup(a, "T") : wrap(a, kJuxt);
  const std::string sb = at.trans_b ? sup(b, "T") : wrap(b, kAtom);
  const std::string sep = style_ == Style::latex ? "\\," : " ";
  std::string body = sa + sep + sb;
  if (at.scale.is_one()) return {body, kJuxt};
  return {scale_text(at.scale, false) + " " + body, kScaled};
}

// s x + o: "1/m x", "lambda/m W[2]", "(1 - A[1]^2)", "-x".
Text Renderer::affine(const Node& n) const {
  const NodeId xid = n.inputs[0];
  const Text x = ref(xid);
  const Scale s = n.attr<AffineAttrs>().scale;
  const double o = n.attr<AffineAttrs>().offset;
  const bool param = g_.node(xid).op == OpKind::param;
  const bool update = n.role == Role::update;
  if (o == 0.0) {
    if (s == Scale(-1.0)) return {"-" + wrap(x, kJuxt), kNeg};
    return {scale_text(s, param, update) + " " + wrap(x, kJuxt), kScaled};
  }
  const std::string sign = o < 0 ? " - " : " + ";
  const std::string off = number(std::abs(o), update);
  if (s == Scale(-1.0)) return {format_number(o) + " - " + wrap(x, kMul), kAdd};
  if (s.is_one()) return {wrap(x, kAdd) + sign + off, kAdd};
  return {scale_text(s, param, update) + " " + wrap(x, kJuxt) + sign + off, kAdd};
}

// scale sum(x, axis): "1/m sum(dZ[2], axis=1)".
Text Renderer::sum(const Node& n) const {
  const Text x = ref(n.inputs[0]);
  std::string args = x.s;
  const SumAttrs& at = n.attr<SumAttrs>();
  if (at.axis >= 0)
    args += style_ == Style::latex ? fmt::format(",\\ \\text{{axis}}={}", at.axis)
                                   : fmt::format(", axis={}", at.axis);
  if (at.axis == 1 && !at.keepdims)
    args += style_ == Style::latex ? ",\\ \\text{keepdims=False}" : ", keepdims=False";
  std::string body = call("sum", args);
  if (at.scale.is_one()) return {body, kAtom};
  return {scale_text(at.scale, false) + " " + body, kScaled};
}

// The derivative mask of relu (slope 0) and leaky relu: (Z[1] > 0).
Text Renderer::step(const Node& n) const {
  const Text z = ref(n.inputs[0]);
  if (n.attr<SlopeAttrs>().slope == 0.0) return {paren(wrap(z, kAtom) + " > 0"), kAtom};
  const std::string slope = format_number(n.attr<SlopeAttrs>().slope);
  if (style_ == Style::latex)
    return {fmt::format("\\begin{{cases}}1 & {} > 0\\\\ {} & \\text{{otherwise}}\\end{{cases}}",
                        wrap(z, kAtom), slope),
            kAtom};
  return {fmt::format("where({} > 0, 1, {})", wrap(z, kAtom), slope), kAtom};
}

Text Renderer::expand(NodeId id) const {
  const Node& n = g_.node(id);
  const std::string_view mul_op = " * ";
  auto in = [&](std::size_t k) { return ref(n.inputs[k]); };
  switch (n.op) {
    case OpKind::input:
    case OpKind::param:
    case OpKind::dropout_mask: return {n.name.empty() ? g_.describe(id) : nt_.name(n.name, style_)};
    case OpKind::constant: {
      const double v = n.attr<ConstantAttrs>().value;
      return {format_number(v), v < 0 ? kNeg : kAtom};
    }
    case OpKind::matmul: return matmul(n);
    case OpKind::affine: return affine(n);
    case OpKind::sum: return sum(n);
    case OpKind::step: return step(n);
    case OpKind::add: return {wrap(in(0), kAdd) + " + " + wrap(in(1), kAdd), kAdd};
    case OpKind::sub: return {wrap(in(0), kAdd) + " - " + wrap(in(1), kMul), kAdd};
    case OpKind::neg: return {"-" + wrap(in(0), kJuxt), kNeg};
    case OpKind::mul: {
      const Text a = in(0), b = in(1);
      // A (1x1) factor such as alpha scales: "alpha dW[1]".
      if (g_.node(n.inputs[0]).shape.is_scalar() && n.role == Role::update)
        return {wrap(a, kAtom) + (style_ == Style::latex ? "\\," : " ") + wrap(b, kJuxt), kMul};
      const std::string sa = a.is_mul ? a.s : wrap(a, kJuxt);
      const std::string sb = b.is_mul ? b.s : wrap(b, kJuxt);
      return {sa + std::string(mul_op) + sb, kMul, true};
    }
    case OpKind::div: return {wrap(in(0), kMul) + " / " + wrap(in(1), kAtom), kMul};
    // Inverted dropout's backward: dA[1] * D[1] / keep_prob.
    case OpKind::dropout: {
      const Text a = in(0);
      return {(a.is_mul ? a.s : wrap(a, kJuxt)) + std::string(mul_op) + wrap(in(1), kAtom) +
                  " / " + keep_prob(),
              kMul};
    }
    case OpKind::square: return {sup(in(0), "2")};
    // beta1^t: the base is a hyperparameter, the exponent the step count.
    case OpKind::pow: {
      const Node& base = g_.node(n.inputs[0]);
      const Text b = base.op == OpKind::constant ? Text{number(base.attr<ConstantAttrs>().value, true)} : in(0);
      return {sup(b, in(1).s)};
    }
    // target := value reads as the notes' update: v_dW[1] = beta1 v_dW[1] + ...
    case OpKind::assign: return expand(n.inputs[1]);
    case OpKind::transpose: return {sup(in(0), "T")};
    default: break;
  }
  std::vector<std::string> args;
  for (std::size_t k = 0; k < n.inputs.size(); ++k) args.push_back(in(k).s);
  return {call(ops::op_def(n.op).name, fmt::format("{}", fmt::join(args, ", ")))};
}

// ---- which nodes get a line --------------------------------------------------

std::vector<NodeId> live_consumers(const Graph& g, NodeId id, const std::vector<bool>& live) {
  std::vector<NodeId> out;
  for (NodeId c : g.consumers(id))
    if (live[c]) out.push_back(c);
  return out;
}

// A dA[l] node reads as part of dZ[l] (the notes' dZ[1] = W[2]^T dZ[2] * g'(Z[1]))
// unless dropout sits on either side of it.
bool inline_da(const Graph& g, NodeId id, const std::vector<bool>& live) {
  const Node& n = g.node(id);
  auto parsed = parse_notes_name(n.name);
  if (!parsed || !parsed->gradient || parsed->base != "A" || n.op == OpKind::dropout) return false;
  const auto users = live_consumers(g, id, live);
  return users.size() == 1 && g.node(users[0]).op != OpKind::dropout;
}

bool gets_line(const Graph& g, NodeId id, const std::vector<bool>& live, bool output) {
  const Node& n = g.node(id);
  // An optimizer's step: each assign, and the named values it computes on
  // the way (v_corr_dW1, alpha); the other update nodes read inline.
  if (n.role == Role::update) return n.op == OpKind::assign || !n.name.empty();
  if (output) return true;
  if (n.role != Role::backward || n.op == OpKind::constant) return false;
  if (!n.name.empty()) return !inline_da(g, id, live);
  return live_consumers(g, id, live).size() > 1;
}

// The notes' order within a layer: dA (before the mask), dA, dZ, dW, db.
std::optional<std::pair<int, int>> notes_order(const Node& n) {
  auto p = parse_notes_name(n.name);
  if (!p || !p->gradient || p->layer < 0) return std::nullopt;
  constexpr std::string_view bases[] = {"A", "Z", "W", "b"};
  auto it = std::find(std::begin(bases), std::end(bases), p->base);
  if (it == std::end(bases)) return std::nullopt;
  int rank = static_cast<int>(it - std::begin(bases)) * 2 + (p->base == "A" && !p->dropped);
  return std::pair{-p->layer, rank};
}

// The order of an optimizer's lines: t first, then per layer the moments
// (v, s), their corrections and the parameter, W before b.
std::tuple<int, int, int> update_order(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  const std::string& name = n.op == OpKind::assign ? g.node(n.inputs[0]).name : n.name;
  if (name == "t") return {-1, 0, 0};
  if (name == "alpha") return {-1, 1, 0};
  int kind = 4;
  std::string_view rest = name;
  constexpr std::string_view prefixes[] = {"v_d", "s_d", "v_corr_d", "s_corr_d"};
  for (int k = 3; k >= 0; --k)
    if (rest.starts_with(prefixes[k])) {
      kind = k;
      rest.remove_prefix(prefixes[k].size());
      break;
    }
  return {n.layer, rest.starts_with("b") ? 1 : 0, kind};
}

}  // namespace

std::vector<ExplainLine> explain_lines(const Graph& g, std::span<const NodeId> outputs,
                                       const Notation& notation, Style style) {
  const std::vector<NodeId> order = g.schedule(outputs);
  std::vector<bool> live(g.size(), false), is_output(g.size(), false);
  for (NodeId id : order) live[id] = true;
  for (NodeId id : outputs) is_output[id] = true;

  std::vector<NodeId> rows, updates;
  for (NodeId id : order)
    if (gets_line(g, id, live, is_output[id]))
      (g.node(id).role == Role::update ? updates : rows).push_back(id);
  const bool by_notes = std::all_of(rows.begin(), rows.end(),
                                    [&](NodeId id) { return notes_order(g.node(id)).has_value(); });
  if (by_notes)
    std::stable_sort(rows.begin(), rows.end(), [&](NodeId a, NodeId b) {
      return *notes_order(g.node(a)) < *notes_order(g.node(b));
    });
  // The update comes after the whole backward pass, as the notes write it.
  std::stable_sort(updates.begin(), updates.end(), [&](NodeId a, NodeId b) {
    return update_order(g, a) < update_order(g, b);
  });
  rows.insert(rows.end(), updates.begin(), updates.end());

  Renderer r(g, notation, style);
  int generated = 0;
  for (NodeId id : rows) {
    const Node& n = g.node(id);
    // An assign's line is its target's: W[1] = W[1] - alpha dW[1].
    const std::string& nm = n.op == OpKind::assign ? g.node(n.inputs[0]).name : n.name;
    std::string label = !nm.empty() ? notation.name(nm, style)
                        : style == Style::latex ? fmt::format("t_{{{}}}", ++generated)
                                                : fmt::format("t{}", ++generated);
    r.set_label(id, std::move(label));
  }
  const std::vector<SymbolicShape> shapes = symbolic_shapes(g, notation);
  std::vector<ExplainLine> lines;
  for (NodeId id : rows)
    lines.push_back({id, r.label(id), r.expand(id).s, notation.shape(shapes[id], style)});
  return lines;
}

std::string format_explain(std::span<const ExplainLine> lines, Style style) {
  std::string out;
  if (style == Style::latex) {
    out = "\\begin{aligned}\n";
    for (std::size_t k = 0; k < lines.size(); ++k)
      out += fmt::format("  {} &= {} && {}{}\n", lines[k].lhs, lines[k].rhs, lines[k].shape,
                         k + 1 < lines.size() ? " \\\\" : "");
    return out + "\\end{aligned}\n";
  }
  std::size_t width = 0;
  for (const ExplainLine& l : lines) width = std::max(width, l.lhs.size() + 3 + l.rhs.size());
  for (const ExplainLine& l : lines)
    out += fmt::format("{:<{}}{}\n", l.lhs + " = " + l.rhs, width + 2, l.shape);
  return out;
}

}  // namespace dagrad::viz
