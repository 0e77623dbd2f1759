// Gradient checking by central differences (autodiff/gradcheck.hpp).
//
// The check runs two plans over one float64 copy of the graph: one that
// computes the analytic gradients once, and one that computes only J (plus the
// inputs of kinked ops) for each perturbed coordinate. Both read the leaf
// values in place, so a perturbation is one store and one forward run.
#include "dagrad/autodiff/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include <fmt/format.h>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::autodiff {

namespace {

using Values = std::vector<std::vector<double>>;  // per node id; leaves only

bool is_leaf_value(const Node& n) { return n.op == OpKind::input || n.op == OpKind::param; }

// Standard normals from a fully specified engine (mt19937_64 is the same on
// every standard library; the distributions are not, so Box-Muller is here).
void fill_normal(std::span<double> out, std::mt19937_64& rng) {
  auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1p-53; };
  for (double& v : out)
    v = std::sqrt(-2.0 * std::log(uniform())) * std::cos(2.0 * std::numbers::pi * uniform());
}

// Copies each fed leaf of `g` into a buffer; every leaf `needed` marks must be fed.
Values leaf_values(const Graph& g, const Feeds& feeds, const std::vector<bool>& needed) {
  Values v(g.size());
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (!is_leaf_value(n)) continue;
    auto it = std::ranges::find_if(feeds, [&](const auto& f) { return f.first == n.name; });
    if (it == feeds.end()) {
      if (needed[id])
        throw InputError(
            fmt::format("gradcheck: no value given for {} {}", n.name, to_string(n.shape)));
      continue;
    }
    if (it->second.shape != n.shape)
      throw InputError(fmt::format("gradcheck: {} is given as {} but the graph declares {}", n.name,
                                   to_string(it->second.shape), to_string(n.shape)));
    v[id] = it->second.values;
  }
  return v;
}

void bind_all(runtime::Executor& exec, const Graph& g, Values& v) {
  const std::vector<bool> scheduled = [&] {
    std::vector<bool> s(g.size());
    for (NodeId id : exec.schedule()) s[id] = true;
    return s;
  }();
  for (NodeId id = 0; id < g.size(); ++id)
    if (scheduled[id] && id < v.size() && !v[id].empty())
      exec.bind(id, v[id].data(), g.node(id).shape);
}

// The coordinates to perturb: all of them, or `samples` distinct ones drawn by
// a seeded partial Fisher-Yates shuffle (sorted, for readable dumps).
std::vector<std::int64_t> pick_coordinates(std::int64_t size, const CheckOptions& o,
                                           std::size_t param_index) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(size));
  for (std::int64_t i = 0; i < size; ++i) all[static_cast<std::size_t>(i)] = i;
  if (o.full || o.samples >= size) return all;
  std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL + param_index);
  const auto k = static_cast<std::size_t>(std::max<std::int64_t>(o.samples, 0));
  for (std::size_t i = 0; i < k; ++i) std::swap(all[i], all[i + rng() % (all.size() - i)]);
  all.resize(k);
  std::ranges::sort(all);
  return all;
}

// Inputs of the non-smooth unary ops (relu, leaky_relu, step): their kink is
// at 0. Registry-driven, so a new kinked op is covered without a list here.
std::vector<NodeId> kink_inputs(const Graph& g, NodeId J) {
  std::vector<NodeId> out;
  const NodeId t[] = {J};
  for (NodeId id : g.schedule(t)) {
    const Node& n = g.node(id);
    const ops::OpDef& def = ops::op_def(n.op);
    if (!def.smooth && def.grad && n.inputs.size() == 1) out.push_back(n.inputs[0]);
  }
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<double> snapshot(const runtime::Executor& exec, std::span<const NodeId> ids) {
  std::vector<double> out;
  for (NodeId id : ids) {
    auto v = exec.values<double>(id);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// A kink: an element that moved between the two evaluations and came within
// eps of 0 on the way, so the difference quotient straddles a corner.
bool straddles_kink(const std::vector<double>& plus, const std::vector<double>& minus, double eps) {
  for (std::size_t i = 0; i < plus.size(); ++i) {
    const double lo = std::min(plus[i], minus[i]), hi = std::max(plus[i], minus[i]);
    if (lo != hi && lo <= eps && hi >= -eps) return true;
  }
  return false;
}

std::vector<NodeId> analytic_nodes(Graph& g, NodeId J, std::span<const NodeId> params,
                                   std::span<const NodeId> grads, const CheckOptions& o) {
  if (!grads.empty()) {
    if (grads.size() != params.size())
      throw GraphError(fmt::format("gradcheck: {} gradient nodes for {} parameters", grads.size(),
                                   params.size()));
    for (std::size_t k = 0; k < grads.size(); ++k)
      if (g.node(grads[k]).shape != g.node(params[k]).shape)
        throw GraphError(fmt::format("gradcheck: gradient {} {} does not match {} {}",
                                     g.describe(grads[k]), to_string(g.node(grads[k]).shape),
                                     g.describe(params[k]), to_string(g.node(params[k]).shape)));
    return {grads.begin(), grads.end()};
  }
  std::vector<Expr> wrt;
  for (NodeId p : params) wrt.push_back(g.expr(p));
  GradientOptions go;
  go.warn = o.warn;
  std::vector<NodeId> out;
  for (Expr d : gradients(g.expr(J), wrt, go)) out.push_back(d.id);
  return out;
}

void check_leaves(const Graph& g, NodeId J, std::span<const NodeId> params) {
  if (g.node(J).shape != Shape{1, 1})
    throw GraphError(fmt::format("gradcheck: the cost {} is {}, not a scalar", g.describe(J),
                                 to_string(g.node(J).shape)));
  for (NodeId p : params)
    if (!is_leaf_value(g.node(p)))
      throw GraphError(fmt::format("gradcheck: {} is not a parameter or input", g.describe(p)));
}

// Central differences of J over `coords` of the leaf `values`, beside the
// analytic gradient; kinked coordinates are counted and skipped.
ParamCheck check_param(runtime::Executor& fwd, NodeId J, std::span<const NodeId> kinked,
                       std::vector<double>& values, const std::vector<std::int64_t>& coords,
                       std::span<const double> grad, const CheckOptions& o,
                       std::vector<double>& all_a, std::vector<double>& all_n) {
  ParamCheck pc;
  std::vector<double> a, n;
  const runtime::RunOptions run{true, o.step, true};  // numeric checks always on
  for (std::int64_t i : coords) {
    double& v = values[static_cast<std::size_t>(i)];
    const double saved = v;
    v = saved + o.eps;
    fwd.run(run);
    const double j_plus = fwd.scalar(J);
    const std::vector<double> z_plus = snapshot(fwd, kinked);
    v = saved - o.eps;
    fwd.run(run);
    const double j_minus = fwd.scalar(J);
    const bool kink = straddles_kink(z_plus, snapshot(fwd, kinked), o.eps);
    v = saved;
    if (kink) {
      ++pc.kinks;
      continue;
    }
    a.push_back(grad[static_cast<std::size_t>(i)]);
    n.push_back((j_plus - j_minus) / (2.0 * o.eps));
  }
  pc.checked = static_cast<std::int64_t>(a.size());
  pc.rel_diff = relative_difference(a, n);
  pc.pass = pc.rel_diff < o.threshold;
  all_a.insert(all_a.end(), a.begin(), a.end());
  all_n.insert(all_n.end(), n.begin(), n.end());
  return pc;
}

// One op's rule checked in isolation: a small graph holding y = f(x) on the
// forward values of its operands, the seed u, and the rule's gradients.
struct LocalCheck {
  LocalCheck() = default;
  LocalCheck(const LocalCheck&) = delete;
  LocalCheck& operator=(const LocalCheck&) = delete;
  Graph m{DType::f64};
  std::vector<Expr> xs;
  std::vector<bool> wanted;
  Values values;               // per node of m: bound leaf values
  std::vector<NodeId> x_leaf;  // per operand: its leaf in m, or none
  std::vector<NodeId> grad;    // per operand: the rule's gradient, or none
  NodeId y = 0, u = 0;
};

constexpr NodeId none = static_cast<NodeId>(-1);

// Operand k of node `id` in the local graph. An operand off the path that is a
// generated leaf (a constant, a dropout mask) is rebuilt as the same op, so it
// yields the same values under the same step and its attributes (keep_prob)
// stay visible to the rule; every other operand becomes a bound input.
Expr local_operand(LocalCheck& lc, const Graph& g, NodeId in, std::size_t k) {
  const Node& x = g.node(in);
  if (!lc.wanted[k] && x.inputs.empty() && !is_leaf_value(x))
    return lc.m.add(x.op, {}, x.attrs, x.shape);
  return lc.m.input(fmt::format("x{}", k), x.shape);
}

// Fills `lc` in place: its Exprs point at lc.m, so it must not move.
void build_local(LocalCheck& lc, const Graph& g, NodeId id, const std::vector<bool>& on_path,
                 const runtime::Executor& base) {
  const Node& n = g.node(id);
  for (std::size_t k = 0; k < n.inputs.size(); ++k) {
    lc.wanted.push_back(on_path[n.inputs[k]]);
    lc.xs.push_back(local_operand(lc, g, n.inputs[k], k));
  }
  std::vector<NodeId> ids;
  for (Expr x : lc.xs) ids.push_back(x.id);
  const Expr y = lc.m.add(n.op, ids, n.attrs, n.shape);
  const Expr u = lc.m.input("u", n.shape);
  const std::vector<Expr> gx =
      ops::op_def(n.op).grad(ops::GradCall{lc.m, y, lc.xs, u, n.attrs, lc.wanted});
  lc.values.resize(lc.m.size());
  for (std::size_t k = 0; k < lc.xs.size(); ++k) {
    const bool bound = lc.xs[k].node().op == OpKind::input;
    lc.x_leaf.push_back(bound ? lc.xs[k].id : none);
    if (bound) {
      auto v = base.values<double>(n.inputs[k]);
      lc.values[lc.xs[k].id].assign(v.begin(), v.end());
    }
    const bool has = lc.wanted[k] && k < gx.size() && gx[k].valid();
    lc.grad.push_back(has ? unbroadcast(gx[k], lc.xs[k].shape()).id : none);
  }
  lc.y = y.id;
  lc.u = u.id;
  lc.values.resize(lc.m.size());  // unbroadcast may have added nodes
}

// Random directions r_k for the wanted operands. For a kinked op an element
// within eps |r| of its kink at 0 gets r = 0: the quotient would straddle it.
std::vector<std::vector<double>> directions(LocalCheck& lc, bool smooth, double eps,
                                            std::mt19937_64& rng, std::int64_t& kinks) {
  std::vector<std::vector<double>> r(lc.xs.size());
  for (std::size_t k = 0; k < lc.xs.size(); ++k) {
    if (!lc.wanted[k]) continue;
    r[k].resize(static_cast<std::size_t>(lc.xs[k].shape().size()));
    fill_normal(r[k], rng);
    if (smooth) continue;
    const std::vector<double>& x = lc.values[lc.x_leaf[k]];
    for (std::size_t i = 0; i < x.size(); ++i)
      if (std::abs(x[i]) <= eps * std::abs(r[k][i])) {
        r[k][i] = 0.0;
        ++kinks;
      }
  }
  return r;
}

// <u, f(x + t r)> for t = +eps and -eps, differenced element by element
// before the dot product so that the rounding of large outputs cancels.
double directional_difference(LocalCheck& lc, runtime::Executor& fwd,
                              const std::vector<std::vector<double>>& r, const CheckOptions& o) {
  const runtime::RunOptions run{true, o.step, true};  // numeric checks always on
  auto shift = [&](double t) {
    for (std::size_t k = 0; k < r.size(); ++k)
      for (std::size_t i = 0; i < r[k].size(); ++i) lc.values[lc.x_leaf[k]][i] += t * r[k][i];
  };
  const double eps = o.node_eps;
  shift(eps);
  fwd.run(run);
  auto yv = fwd.values<double>(lc.y);
  std::vector<double> plus(yv.begin(), yv.end());
  shift(-2.0 * eps);
  fwd.run(run);
  yv = fwd.values<double>(lc.y);
  shift(eps);
  const std::vector<double>& u = lc.values[lc.u];
  double total = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) total += u[i] * (plus[i] - yv[i]);
  return total / (2.0 * eps);
}

NodeCheck check_node(const Graph& g, NodeId id, const std::vector<bool>& on_path,
                     const runtime::Executor& base, const CheckOptions& o, std::mt19937_64& rng) {
  LocalCheck lc;
  build_local(lc, g, id, on_path, base);
  NodeCheck nc;
  nc.id = id;
  const Node& n = g.node(id);
  nc.node =
      n.name.empty() ? g.describe(id) : fmt::format("{} ({})", n.name, ops::op_def(n.op).name);
  lc.values[lc.u].resize(static_cast<std::size_t>(n.shape.size()));
  fill_normal(lc.values[lc.u], rng);
  const auto r = directions(lc, ops::op_def(n.op).smooth, o.node_eps, rng, nc.kinks);
  std::vector<NodeId> grads;
  for (NodeId d : lc.grad)
    if (d != none) grads.push_back(d);
  runtime::Executor fwd(lc.m, {lc.y});
  bind_all(fwd, lc.m, lc.values);
  double analytic = 0.0;
  if (!grads.empty()) {
    runtime::Executor bwd(lc.m, grads);
    bind_all(bwd, lc.m, lc.values);
    bwd.run(runtime::RunOptions{true, o.step, true});
    for (std::size_t k = 0; k < r.size(); ++k)
      if (lc.grad[k] != none) {
        auto gk = bwd.values<double>(lc.grad[k]);
        for (std::size_t i = 0; i < r[k].size(); ++i) analytic += r[k][i] * gk[i];
      }
  }
  const double numeric = directional_difference(lc, fwd, r, o);
  nc.rel_diff = relative_difference(std::span(&analytic, 1), std::span(&numeric, 1));
  nc.pass = nc.rel_diff < o.threshold;
  return nc;
}

}  // namespace

double relative_difference(std::span<const double> a, std::span<const double> b) {
  double diff = 0.0, na = 0.0, nb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const double den = std::sqrt(na) + std::sqrt(nb);
  return den == 0.0 ? 0.0 : std::sqrt(diff) / den;
}

Graph to_f64(const Graph& graph, std::int64_t m) {
  Graph g(DType::f64);
  for (NodeId id = 0; id < graph.size(); ++id) {
    const Node& n = graph.node(id);
    BuildScope scope(g, n.role, n.layer);
    Attrs a = n.attrs;
    Shape s = n.shape;
    if (m > 0) {  // the sample count bound: numbers where m stood
      s = s.at(m);
      if (a.has_scale()) a.set_scale(a.scale_factor().at(m));
      if (n.op == OpKind::l2_penalty && a.get<L2Attrs>().m == m_dim) a.get<L2Attrs>().m = m;
    }
    const Expr e = g.add(n.op, n.inputs, a, s);
    if (e.id != id)
      throw GraphError(fmt::format("to_f64: node {} duplicates node {}", graph.describe(id),
                                   graph.describe(e.id)));
    if (!n.name.empty()) g.set_name(id, n.name);
  }
  return g;
}

namespace {

// The sample count the feeds bind m to (0: no input with m is fed).
std::int64_t fed_m(const Graph& g, const Feeds& feeds) {
  for (const auto& [name, value] : feeds) {
    const auto id = g.find(name);
    if (!id) continue;
    const Shape d = g.node(*id).shape;
    if (d.cols == m_dim) return value.cols();
    if (d.rows == m_dim) return value.rows();
  }
  return 0;
}

}  // namespace

CheckReport gradcheck(const Graph& graph, NodeId J, std::span<const NodeId> params,
                      const Feeds& feeds, const CheckOptions& o, std::span<const NodeId> grads) {
  Graph g = to_f64(graph, fed_m(graph, feeds));
  check_leaves(g, J, params);
  const std::vector<NodeId> gids = analytic_nodes(g, J, params, grads, o);
  std::vector<NodeId> roots = gids;
  roots.push_back(J);
  Values values = leaf_values(g, feeds, g.ancestors_of(roots));
  const std::vector<NodeId> kinked = kink_inputs(g, J);
  std::vector<NodeId> fwd_out{J};
  fwd_out.insert(fwd_out.end(), kinked.begin(), kinked.end());
  runtime::Executor bwd(g, gids), fwd(g, fwd_out);
  bind_all(bwd, g, values);
  bind_all(fwd, g, values);
  bwd.run(runtime::RunOptions{true, o.step, true});

  CheckReport report;
  report.full = o.full;
  std::vector<double> all_a, all_n;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const Node& p = g.node(params[k]);
    const auto grad = bwd.values<double>(gids[k]);
    const auto coords = pick_coordinates(p.shape.size(), o, k);
    ParamCheck pc = check_param(fwd, J, kinked, values[params[k]], coords, grad, o, all_a, all_n);
    pc.name = p.name;
    pc.shape = p.shape;
    pc.grad = io::Matrix(p.shape);
    std::ranges::copy(grad, pc.grad.values.begin());
    report.kinks += pc.kinks;
    report.pass = report.pass && pc.pass;
    report.params.push_back(std::move(pc));
  }
  report.rel_diff = relative_difference(all_a, all_n);
  report.pass = report.pass && report.rel_diff < o.threshold;
  return report;
}

NodeReport check_rules(const Graph& graph, NodeId J, std::span<const NodeId> params,
                       const Feeds& feeds, const CheckOptions& o) {
  Graph g = to_f64(graph, fed_m(graph, feeds));
  check_leaves(g, J, params);
  const NodeId targets[] = {J};
  const std::vector<bool> feeds_j = g.ancestors_of(targets);
  const std::vector<bool> from_params = g.descendants_of(params);
  std::vector<bool> on_path(g.size());
  for (NodeId id = 0; id < g.size(); ++id) on_path[id] = feeds_j[id] && from_params[id];
  Values values = leaf_values(g, feeds, feeds_j);
  // Every operand's value is read back, so no buffer may be shared.
  runtime::ExecutorOptions keep_all;
  keep_all.plan.share = false;
  runtime::Executor base(g, {J}, keep_all);
  bind_all(base, g, values);
  base.run(runtime::RunOptions{true, o.step, true});

  NodeReport report;
  std::mt19937_64 rng(o.seed);
  for (NodeId id : base.schedule()) {  // topological: the first failure is the earliest rule
    if (!on_path[id] || !ops::op_def(g.node(id).op).grad) continue;
    report.nodes.push_back(check_node(g, id, on_path, base, o, rng));
    if (!report.nodes.back().pass && !report.first_failure)
      report.first_failure = report.nodes.size() - 1;
  }
  return report;
}

}  // namespace dagrad::autodiff
