#include "dagrad/viz/notation.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/error.hpp"


namespace dagrad::viz {

namespace {

// Bases the model builder numbers by layer (models/mlp.cpp) and the unnumbered
// names it uses. "L2" is the penalty, not a layer-2 "L".
bool layered_base(std::string_view b) {
  return b == "Z" || b == "A" || b == "W" || b == "b" || b == "D";
}
bool plain_base(std::string_view b) { return b == "X" || b == "Y" || b == "J"; }

std::string latex_text(std::string_view s) {
  std::string out = "\\mathrm{";
  for (char c : s) {
    if (c == '_' || c == '%' || c == '#' || c == '&' || c == '$') out += '\\';
    out += c;
  }
  return out + "}";
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-12 * std::abs(b); }

}  // namespace

std::optional<NotesName> parse_notes_name(std::string_view name) {
  NotesName out;
  constexpr std::string_view drop = "_drop";
  if (name.size() > drop.size() && name.substr(name.size() - drop.size()) == drop) {
    out.dropped = true;
    name.remove_suffix(drop.size());
  }
  std::size_t digits = name.size();
  while (digits > 0 && std::isdigit(static_cast<unsigned char>(name[digits - 1]))) --digits;
  std::string_view stem = name.substr(0, digits);
  if (stem.size() >= 2 && stem[0] == 'd') {
    out.gradient = true;
    stem.remove_prefix(1);
  }
  out.base = std::string(stem);
  if (digits < name.size()) {
    if (!layered_base(stem) || name.size() - digits > 4) return std::nullopt;
    out.layer = std::atoi(std::string(name.substr(digits)).c_str());
    return out;
  }
  if (!plain_base(stem) || out.dropped) return std::nullopt;
  return out;
}

Notation Notation::from_graph(const Graph& g) {
  Notation n;
  auto X = g.find("X");
  if (X && g.node(*X).op == OpKind::input) {
    n.m = g.node(*X).shape.cols;
    n.layers.push_back(g.node(*X).shape.rows);
    for (int l = 1;; ++l) {
      auto W = g.find(fmt::format("W{}", l));
      if (!W || g.node(*W).shape.cols != n.layers.back()) break;
      n.layers.push_back(g.node(*W).shape.rows);
    }
    if (n.layers.size() < 2) n.layers.clear();
  }
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node& node = g.node(id);
    if (node.op == OpKind::l2_penalty) n.lambda = node.attr<L2Attrs>().lambda;
    if (node.op == OpKind::assign && node.role == Role::update) {
      const HyperAttrs& h = node.attr<HyperAttrs>();
      n.beta1 = h.beta1;
      n.beta2 = h.beta2;
      n.epsilon = h.epsilon;
    }
  }
  return n;
}

std::optional<std::string> Notation::hyper(double v, Style style) const {
  const bool tex = style == Style::latex;
  const std::pair<const std::optional<double>&, const char*> named[] = {
      {beta1, tex ? "\\beta_1" : "beta1"}, {beta2, tex ? "\\beta_2" : "beta2"}};
  for (const auto& [b, sym] : named) {
    if (!b) continue;
    if (v == *b) return std::string(sym);
    if (v == 1.0 - *b) return fmt::format("{}1 - {}{}", tex ? "\\left(" : "(", sym, tex ? "\\right)" : ")");
  }
  if (epsilon && v == *epsilon) return std::string(tex ? "\\varepsilon" : "epsilon");
  return std::nullopt;
}

std::string Notation::name(std::string_view raw, Style style) const {
  // An optimizer's moments: v_dW1, s_dW1 and their bias-corrected v_corr_dW1.
  for (std::string_view prefix : {"v_corr_", "s_corr_", "v_", "s_"}) {
    if (!raw.starts_with(prefix)) continue;
    auto inner = parse_notes_name(raw.substr(prefix.size()));
    if (!inner || !inner->gradient) break;
    const std::string d = name(raw.substr(prefix.size()), style);
    if (style == Style::text) return std::string(prefix) + d;
    const bool corrected = prefix.size() > 2;
    return fmt::format("{}{}_{{{}}}", prefix[0], corrected ? "^{corrected}" : "", d);
  }
  if (style == Style::latex && (raw == "alpha" || raw == "alpha0"))
    return raw == "alpha" ? "\\alpha" : "\\alpha_0";
  auto parsed = parse_notes_name(raw);
  if (!parsed) return style == Style::latex ? latex_text(raw) : std::string(raw);
  std::string out = (parsed->gradient ? "d" : "") + parsed->base;
  if (parsed->layer < 0) return out;
  return style == Style::latex ? fmt::format("{}^{{[{}]}}", out, parsed->layer)
                               : fmt::format("{}[{}]", out, parsed->layer);
}

std::string Notation::dim(const SymbolicDim& d, Style style) const {
  if (d.value == 1) return "1";
  if (d.is_m) return "m";
  if (d.layer >= 0) return style == Style::latex ? fmt::format("n^{{[{}]}}", d.layer)
                                                 : fmt::format("n[{}]", d.layer);
  return fmt::format("{}", d.value);
}

std::string Notation::shape(const SymbolicShape& s, Style style) const {
  return fmt::format("({} {} {})", dim(s.rows, style), style == Style::latex ? "\\times" : "x",
                     dim(s.cols, style));
}

SymbolicDim Notation::dim_of_value(std::int64_t v) const {
  SymbolicDim d{v, -1, false};
  if (v == 1) return d;
  if (v == m_dim || (m > 0 && v == m)) {
    d.is_m = true;
    return d;
  }
  int found = -1, count = 0;
  for (std::size_t l = 0; l < layers.size(); ++l)
    if (layers[l] == v) found = static_cast<int>(l), ++count;
  if (count == 1) d.layer = found;
  return d;
}

std::optional<std::string> Notation::scale(Scale factor, Style style, bool lambda_first) const {
  const bool tex = style == Style::latex;
  if (factor.m_pow != 0) {
    // The factor holds m itself: name value and power.
    const double v = factor.value;
    std::string num = v == 1.0 ? "1" : v == -1.0 ? "-1" : format_number(v);
    // lambda = 1 reads as lambda only where lambda is preferred (beside a W).
    const bool by_lambda = lambda > 0 && (std::abs(v) != 1.0 || lambda_first);
    if (by_lambda && v == lambda) num = tex ? "\\lambda" : "lambda";
    if (by_lambda && v == -lambda) num = tex ? "-\\lambda" : "-lambda";
    if (factor.m_pow == -1) {
      if (!tex) return num + "/m";
      const bool neg = num.front() == '-';
      return fmt::format("{}\\frac{{{}}}{{m}}", neg ? "-" : "", neg ? num.substr(1) : num);
    }
    const std::string p = fmt::format("{}", factor.m_pow);
    return tex ? fmt::format("{} m^{{{}}}", num, p) : fmt::format("{} m^{}", num, p);
  }
  const double s = factor.value;
  if (m <= 0) return std::nullopt;
  const double md = static_cast<double>(m);
  auto by_m = [&]() -> std::optional<std::string> {
    if (close(s, 1.0 / md)) return tex ? "\\frac{1}{m}" : "1/m";
    if (close(s, -1.0 / md)) return tex ? "-\\frac{1}{m}" : "-1/m";
    return std::nullopt;
  };
  auto by_lambda = [&]() -> std::optional<std::string> {
    if (lambda <= 0) return std::nullopt;
    if (close(s, lambda / md)) return tex ? "\\frac{\\lambda}{m}" : "lambda/m";
    if (close(s, -lambda / md)) return tex ? "-\\frac{\\lambda}{m}" : "-lambda/m";
    return std::nullopt;
  };
  if (lambda_first) {
    if (auto r = by_lambda()) return r;
    return by_m();
  }
  if (auto r = by_m()) return r;
  return by_lambda();
}

std::string format_number(double v) {
  for (int digits = 1; digits < 17; ++digits) {
    std::string s = fmt::format("{:.{}g}", v, digits);
    if (std::strtod(s.c_str(), nullptr) == v) return s;
  }
  return fmt::format("{:.17g}", v);
}

namespace {

// A leaf's symbols from its name (X, Y, W{l}, b{l}, D{l}) when the sizes agree.
std::optional<SymbolicShape> leaf_by_name(const Node& node, const Notation& nt) {
  auto parsed = parse_notes_name(node.name);
  if (!parsed || parsed->gradient || nt.layers.empty()) return std::nullopt;
  const int L = static_cast<int>(nt.layers.size()) - 1;
  auto n = [&](int l) { return SymbolicDim{nt.layers[static_cast<std::size_t>(l)], l, false}; };
  const SymbolicDim m{nt.m, -1, true}, one{1, -1, false};
  const std::string& b = parsed->base;
  const int l = parsed->layer;
  std::optional<SymbolicShape> s;
  if (b == "X") s = SymbolicShape{n(0), m};
  if (b == "Y") s = SymbolicShape{n(L), m};
  if (l >= 1 && l <= L && b == "W") s = SymbolicShape{n(l), n(l - 1)};
  if (l >= 1 && l <= L && b == "b") s = SymbolicShape{n(l), one};
  if (l >= 1 && l <= L && b == "D") s = SymbolicShape{n(l), m};
  if (s && (s->rows.value != node.shape.rows || s->cols.value != node.shape.cols)) return std::nullopt;
  return s;
}

// The operand dimension (rows first) with the same size, preferring one that
// has a symbol; by value when no operand has that size.
SymbolicDim match_dim(std::int64_t v, bool rows_first, const std::vector<SymbolicShape>& sym,
                      const Node& node, const Notation& nt) {
  std::optional<SymbolicDim> any;
  for (int pass = 0; pass < 2; ++pass) {
    const bool rows = (pass == 0) == rows_first;
    for (NodeId in : node.inputs) {
      const SymbolicDim& d = rows ? sym[in].rows : sym[in].cols;
      if (d.value != v) continue;
      if (d.layer >= 0 || d.is_m) return d;
      if (!any) any = d;
    }
  }
  return any ? *any : nt.dim_of_value(v);
}

SymbolicShape derive(const Node& node, const std::vector<SymbolicShape>& sym, const Notation& nt) {
  const auto& in = node.inputs;
  const SymbolicDim one{1, -1, false};
  if (node.op == OpKind::matmul && in.size() == 2) {
    const SymbolicShape &a = sym[in[0]], &b = sym[in[1]];
    const MatmulAttrs& at = node.attr<MatmulAttrs>();
    return {at.trans_a ? a.cols : a.rows, at.trans_b ? b.rows : b.cols};
  }
  if (node.op == OpKind::transpose && in.size() == 1) return {sym[in[0]].cols, sym[in[0]].rows};
  if (node.op == OpKind::sum && in.size() == 1) {
    const SymbolicShape& x = sym[in[0]];
    const SumAttrs& at = node.attr<SumAttrs>();
    if (at.axis == 0) return {one, x.cols};
    if (at.axis == 1) return at.keepdims ? SymbolicShape{x.rows, one}
                                         : SymbolicShape{one, x.rows};
    return {one, one};
  }
  return {match_dim(node.shape.rows, true, sym, node, nt),
          match_dim(node.shape.cols, false, sym, node, nt)};
}

}  // namespace

std::vector<SymbolicShape> symbolic_shapes(const Graph& g, const Notation& nt) {
  std::vector<SymbolicShape> sym(g.size());
  for (NodeId id : g.topological_order()) {
    const Node& node = g.node(id);
    SymbolicShape s;
    if (node.inputs.empty()) {
      s = leaf_by_name(node, nt).value_or(
          SymbolicShape{nt.dim_of_value(node.shape.rows), nt.dim_of_value(node.shape.cols)});
    } else {
      s = derive(node, sym, nt);
    }
    // A symbol whose size disagrees with the node's shape is never shown.
    if (s.rows.value != node.shape.rows) s.rows = nt.dim_of_value(node.shape.rows);
    if (s.cols.value != node.shape.cols) s.cols = nt.dim_of_value(node.shape.cols);
    sym[id] = s;
  }
  return sym;
}

}  // namespace dagrad::viz

namespace dagrad::viz {

std::vector<NodeId> Derivation::outputs() const {
  std::vector<NodeId> out{J};
  out.insert(out.end(), grads.begin(), grads.end());
  out.insert(out.end(), assigns.begin(), assigns.end());
  return out;
}

Derivation derive_mlp(const models::ModelSpec& spec, DType dtype,
                      const train::OptimizerConfig* optimizer) {
  return derivation_of(models::build_mlp(spec, dtype), optimizer);
}

Derivation derivation_of(const models::Model& model, const train::OptimizerConfig* optimizer) {
  // A copy of the model's graph: the Exprs of a minimize() on it point at
  // the copy, which the Derivation then owns.
  models::Model m(Graph(model.graph()));
  m.set_cost(m.graph().expr(model.cost().id));
  const std::vector<Expr> params = [&] {
    std::vector<Expr> out;
    for (Expr p : model.params()) out.push_back(m.graph().expr(p.id));
    return out;
  }();
  std::vector<Expr> grads;
  std::vector<NodeId> assigns;
  if (model.minimized()) {
    for (Expr e : model.updates().grads) grads.push_back(m.graph().expr(e.id));
    for (Expr e : model.updates().assigns) assigns.push_back(e.id);
  } else if (optimizer) {
    m.set_params(params);
    m.minimize(*optimizer);
    grads = m.updates().grads;
    for (Expr e : m.updates().assigns) assigns.push_back(e.id);
  } else {
    grads = autodiff::gradients(m.cost(), params);
  }
  Derivation d{std::move(m.graph()), model.cost().id, model.output().id, {}, {}, assigns, {}};
  for (std::size_t k = 0; k < params.size(); ++k) {
    d.grads.push_back(grads[k].id);
    if (assigns.empty()) d.updates.push_back({params[k].id, grads[k].id});
  }
  d.notation = Notation::from_graph(d.graph);
  return d;
}

Derivation derivation_of(Graph g) {
  const auto J = g.find("J");
  if (!J) throw InputError("the graph has no node named 'J' (the cost) to differentiate");
  std::vector<Expr> params;
  bool has_backward = false;
  for (NodeId id = 0; id < g.size(); ++id) {
    if (g.node(id).op == OpKind::param) params.push_back(g.expr(id));
    has_backward = has_backward || g.node(id).role == Role::backward;
  }
  if (!has_backward && !params.empty()) {
    autodiff::GradientOptions quiet;
    quiet.warn = [](const std::string&) {};
    autodiff::gradients(g.expr(*J), params, quiet);
  }
  Derivation d{std::move(g), *J, std::nullopt, {}, {}, {}, {}};
  // NOTE: the Exprs in `params` point at the moved-from graph: use their ids.
  for (Expr p : params)
    if (auto grad = d.graph.find("d" + d.graph.node(p.id).name)) {
      d.grads.push_back(*grad);
      d.updates.push_back({p.id, *grad});
    }
  d.notation = Notation::from_graph(d.graph);
  if (!d.notation.layers.empty())
    d.prediction = d.graph.find(fmt::format("A{}", d.notation.layers.size() - 1));
  if (d.grads.empty())  // backward nodes without the notes' names
    for (NodeId id = 0; id < d.graph.size(); ++id) {
      const Node& n = d.graph.node(id);
      if (n.role == Role::backward && n.op != OpKind::constant && d.graph.consumers(id).empty())
        d.grads.push_back(id);
    }
  return d;
}

}  // namespace dagrad::viz
