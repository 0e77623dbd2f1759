#include "dagrad/optim/match.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <memory>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::optim {

namespace {

// One optimizer's equations for a W of `shape`, built in a graph of their
// own on placeholder leaves, with the hyper-parameters `assign` recorded.
struct Pattern {
  Graph t;
  NodeId root = 0;
  std::vector<NodeId> slots;  // placeholders: W, moments, dW, alpha, scalars (operand order)
  std::size_t moments = 0;

  Pattern(const Optimizer& o, Shape shape, const HyperAttrs& a) {
    OptimizerConfig c;
    c.kind = o.kind;
    c.beta1 = a.beta1;
    c.beta2 = a.beta2;
    c.epsilon = a.epsilon;
    c.weight_decay = a.weight_decay;
    Builder b(t, c, o.uses);
    const Expr W = t.param("W", shape), dW = t.input("dW", shape), alpha = t.input("alpha", {1, 1});
    StepScalars scalars{};
    for (int k = 0; k < o.rule->step_scalars; ++k) scalars[std::size_t(k)] = t.input(fmt::format("c{}", k), {1, 1});
    std::array<Expr, 2> ms;
    auto moment = [&](int k) {
      Expr& m = ms.at(std::size_t(k));
      if (!m.valid()) m = t.state(std::string(o.moments.at(std::size_t(k))), shape);
      return m;
    };
    const ParamStep p{W, dW, alpha, moment,
                      std::span<const Expr>(scalars.data(), std::size_t(o.rule->step_scalars)), "dW"};
    root = b.assign(W, o.equations(b, p, c)).id;
    moments = std::size_t(o.moment_count());
    slots.push_back(W.id);
    for (std::size_t k = 0; k < moments; ++k) slots.push_back(moment(int(k)).id);
    slots.push_back(dW.id);
    slots.push_back(alpha.id);
    for (int k = 0; k < o.rule->step_scalars; ++k) slots.push_back(scalars[std::size_t(k)].id);
  }
};

// Unifies the pattern's node `p` with the graph's node `x`.
struct Unifier {
  const Pattern& pat;
  const Graph& g;
  const std::vector<int>& uses;
  static constexpr NodeId unbound = ~NodeId{0};
  // The graph's node bound to each placeholder (pat.slots' order), or unbound.
  std::vector<NodeId> bound = std::vector<NodeId>(pat.slots.size(), unbound);

  bool unify(NodeId p, NodeId x) {
    const Node& pn = pat.t.node(p);
    const Node& xn = g.node(x);
    if (const auto slot = std::find(pat.slots.begin(), pat.slots.end(), p); slot != pat.slots.end()) {
      NodeId& b = bound[std::size_t(slot - pat.slots.begin())];
      if (b != unbound) return b == x;
      // A moment is a state leaf; the other placeholders are computed
      // values, never another update's assign (gd's dW is not momentum's v).
      if (pn.op == OpKind::state ? xn.op != OpKind::state : xn.op == OpKind::assign) return false;
      b = x;
      return true;
    }
    if (pn.op != xn.op || !(pn.attrs == xn.attrs) || pn.inputs.size() != xn.inputs.size()) return false;
    if (pn.op == OpKind::constant) return pn.shape == xn.shape;
    if (p != pat.root && uses[x] != 1) return false;  // the fused node must be its one reader
    for (std::size_t k = 0; k < pn.inputs.size(); ++k)
      if (!unify(pn.inputs[k], xn.inputs[k])) return false;
    return true;
  }
};

// The patterns last built, by what they are built from (optimizer, shape and
// hyper-parameters, compared bit for bit): a deep net's thousand weights share
// a handful of them, and building one is a graph of its own (issue 23: a
// third of optimize's time on 1000 layers). A pattern is a pure function of
// its key, so reusing one changes no match.
const Pattern& pattern_for(const Optimizer& o, Shape shape, const HyperAttrs& a) {
  struct Entry {
    const Optimizer* o;
    Shape shape;
    std::array<std::uint64_t, 4> hyper;
    std::unique_ptr<Pattern> pattern;
  };
  constexpr std::size_t capacity = 64;  // a net's distinct shapes times the optimizers tried
  thread_local std::vector<Entry> cache;
  thread_local std::size_t next = 0;
  const std::array<std::uint64_t, 4> bits{std::bit_cast<std::uint64_t>(a.beta1), std::bit_cast<std::uint64_t>(a.beta2),
                                          std::bit_cast<std::uint64_t>(a.epsilon),
                                          std::bit_cast<std::uint64_t>(a.weight_decay)};
  for (const Entry& e : cache)
    if (e.o == &o && e.shape == shape && e.hyper == bits) return *e.pattern;
  Entry e{&o, shape, bits, std::make_unique<Pattern>(o, shape, a)};
  if (cache.size() < capacity) return *cache.emplace_back(std::move(e)).pattern;
  Entry& slot = cache[next];
  next = (next + 1) % capacity;
  slot = std::move(e);
  return *slot.pattern;
}

}  // namespace

std::optional<UpdateMatch> match_update(const Graph& g, const std::vector<int>& uses, NodeId assign) {
  const Node& a = g.node(assign);
  if (a.op != OpKind::assign || g.node(a.inputs[0]).op != OpKind::param) return std::nullopt;
  const Shape shape = g.node(a.inputs[0]).shape;
  for (const Optimizer* o : all_optimizers()) {
    const Pattern& pat = pattern_for(*o, shape, a.attr<HyperAttrs>());
    Unifier u{pat, g, uses};
    if (!u.unify(pat.root, assign)) continue;
    UpdateMatch m{o, {}, {}};
    for (NodeId b : u.bound) {
      if (b == Unifier::unbound) throw GraphError("match_update: a placeholder of the update was never bound");
      m.operands.push_back(b);
    }
    for (std::size_t k = 0; k < m.operands.size(); ++k) {
      const Shape s = g.node(m.operands[k]).shape;
      if (k < pat.moments + 2 ? s != shape : !s.is_scalar()) return std::nullopt;
    }
    m.attrs.hyper = a.attr<HyperAttrs>();
    m.attrs.rule = o->rule;
    return m;
  }
  return std::nullopt;
}

}  // namespace dagrad::optim
