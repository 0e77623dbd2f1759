// Every op in the registry (ops::all_ops(), so a new op is covered the day it
// is added) is gradient-checked in float64 against central differences, first
// order on every broadcasting pattern and second order (a Hessian-vector
// product, the gradient of <v, grad J>) for the ops marked smooth.
//
// The table below only says how to build a node of each op from valid random
// operands. An op without an entry FAILS: there is no silent skip.
#include <catch2/catch.hpp>

#include <functional>
#include <map>

#include <fmt/format.h>

#include "dagrad/autodiff/gradcheck.hpp"
#include "dagrad/dagrad.hpp"
#include "dagrad/ops/op.hpp"
#include "tests/autodiff/autodiff_test_util.hpp"

using namespace dagrad;
using test::Fill;

namespace {

// Builds the graph for one case: differentiable operands are params (p0,
// p1, ...), labels and masks are inputs or generated leaves.
struct Builder {
  Graph& g;
  autodiff::Feeds& feeds;
  std::mt19937_64& rng;

  Expr param(Shape s, Fill fill = Fill::normal) {
    const std::string name = fmt::format("p{}", feeds.size());
    feeds.emplace_back(name, test::random_matrix(s, rng, fill));
    return g.param(name, s);
  }
  Expr labels(Shape s, bool one_hot) {
    const std::string name = fmt::format("y{}", feeds.size());
    feeds.emplace_back(name,
                       one_hot ? test::one_hot(s, rng) : test::random_matrix(s, rng, Fill::binary));
    return g.input(name, s);
  }
  Expr op(OpKind k, std::vector<Expr> xs, Attrs a = {}, Shape given = {}) {
    std::vector<NodeId> ids;
    for (Expr x : xs) ids.push_back(x.id);
    return g.add(k, ids, a, given);
  }
};

struct Recipe {
  int variants = 0;  // 0: the op has no gradient rule, for the reason below
  std::function<Expr(Builder&, int)> build;
  const char* no_rule = nullptr;
};

constexpr Shape nm{3, 4};

// The broadcasting patterns of a binary element-wise op: (n,m) with (n,1),
// (1,m), (1,1) on either side, equal shapes, and (n,1) with (1,m).
std::pair<Shape, Shape> broadcast_pattern(int v) {
  const Shape pats[][2] = {{nm, nm},     {nm, {3, 1}}, {nm, {1, 4}}, {nm, {1, 1}},
                           {{3, 1}, nm}, {{1, 4}, nm}, {{1, 1}, nm}, {{3, 1}, {1, 4}}};
  return {pats[v][0], pats[v][1]};
}

Recipe binary_recipe(OpKind k, Fill b_fill = Fill::normal) {
  return {8, [k, b_fill](Builder& b, int v) {
            auto [sa, sb] = broadcast_pattern(v);
            return b.op(k, {b.param(sa), b.param(sb, b_fill)});
          }};
}

Recipe unary_recipe(OpKind k, Fill fill = Fill::normal, Attrs a = {}) {
  return {1, [k, fill, a](Builder& b, int) { return b.op(k, {b.param(nm, fill)}, a); }};
}

Recipe no_rule(const char* why) { return {0, nullptr, why}; }

std::map<OpKind, Recipe> recipes() {
  std::map<OpKind, Recipe> r;
  const char* leaf = "a leaf: nothing to differentiate";
  const char* fused = "a fused op made by passes::optimize after differentiation";
  r[OpKind::input] = r[OpKind::param] = r[OpKind::state] = r[OpKind::constant] =
      r[OpKind::dropout_mask] = no_rule(leaf);
  r[OpKind::assign] = no_rule("an optimizer's update: it is applied, not differentiated");
  r[OpKind::allreduce_start] = r[OpKind::allreduce_wait] = r[OpKind::allreduce_part] =
      no_rule("a data-parallel sum made by dist::data_parallel after differentiation");
  r[OpKind::matmul_bias] = r[OpKind::step_mul] = r[OpKind::tanh_grad_mul] =
      r[OpKind::sigmoid_grad_mul] = r[OpKind::update] = r[OpKind::fused_net] =
              no_rule(fused);
  r[OpKind::add] = binary_recipe(OpKind::add);
  r[OpKind::sub] = binary_recipe(OpKind::sub);
  r[OpKind::mul] = binary_recipe(OpKind::mul);
  r[OpKind::div] = binary_recipe(OpKind::div, Fill::positive);
  // a^b needs a > 0 (log a in the rule, and a real power of a negative base).
  r[OpKind::pow] = {8, [](Builder& b, int v) {
                      auto [sa, sb] = broadcast_pattern(v);
                      return b.op(OpKind::pow, {b.param(sa, Fill::positive), b.param(sb)});
                    }};
  r[OpKind::mse] = {1, [](Builder& b, int) {
                      return b.op(OpKind::mse, {b.param(nm), b.param(nm)});
                    }};
  r[OpKind::matmul] = {4, [](Builder& b, int v) {
                         MatmulAttrs a;
                         a.trans_a = v & 1;
                         a.trans_b = v & 2;
                         a.scale = v == 3 ? 0.5 : 1.0;
                         Expr x = b.param(a.trans_a ? Shape{2, 3} : Shape{3, 2});
                         Expr y = b.param(a.trans_b ? Shape{4, 2} : Shape{2, 4});
                         return b.op(OpKind::matmul, {x, y}, a);
                       }};
  r[OpKind::neg] = unary_recipe(OpKind::neg);
  const AffineAttrs aff{1.5, -0.3};
  r[OpKind::affine] = unary_recipe(OpKind::affine, Fill::normal, aff);
  r[OpKind::exp] = unary_recipe(OpKind::exp);
  r[OpKind::log] = unary_recipe(OpKind::log, Fill::positive);
  r[OpKind::square] = unary_recipe(OpKind::square);
  r[OpKind::sqrt] = unary_recipe(OpKind::sqrt, Fill::positive);
  r[OpKind::sigmoid] = unary_recipe(OpKind::sigmoid);
  r[OpKind::tanh] = unary_recipe(OpKind::tanh);
  r[OpKind::relu] = unary_recipe(OpKind::relu, Fill::away_from_zero);
  SlopeAttrs slope;
  slope.slope = 0.1;
  r[OpKind::leaky_relu] = unary_recipe(OpKind::leaky_relu, Fill::away_from_zero, slope);
  slope.slope = 0.2;
  r[OpKind::step] = unary_recipe(OpKind::step, Fill::away_from_zero, slope);
  r[OpKind::sum] = {5, [](Builder& b, int v) {
                      SumAttrs a;
                      const std::int8_t axes[] = {-1, 0, 1, 1, 0};
                      a.axis = axes[v];
                      a.keepdims = v != 3;
                      a.scale = v == 4 ? 0.25 : 1.0;
                      return b.op(OpKind::sum, {b.param(nm)}, a);
                    }};
  r[OpKind::broadcast] = {3, [](Builder& b, int v) {
                            const Shape from[] = {{3, 1}, {1, 4}, {1, 1}};
                            return b.op(OpKind::broadcast, {b.param(from[v])}, {}, nm);
                          }};
  r[OpKind::transpose] = unary_recipe(OpKind::transpose);
  r[OpKind::bce] = {
      1, [](Builder& b, int) {
        return b.op(OpKind::bce, {b.param({1, 6}, Fill::unit), b.labels({1, 6}, false)});
      }};
  r[OpKind::bce_logits] = {
      1, [](Builder& b, int) {
        return b.op(OpKind::bce_logits, {b.param({1, 6}), b.labels({1, 6}, false)});
      }};
  r[OpKind::softmax] = unary_recipe(OpKind::softmax);
  r[OpKind::softmax_ce] = {1, [](Builder& b, int) {
                             return b.op(OpKind::softmax_ce, {b.param(nm), b.labels(nm, true)});
                           }};
  r[OpKind::categorical_ce] = {
      1, [](Builder& b, int) {
        return b.op(OpKind::categorical_ce, {b.param(nm, Fill::positive), b.labels(nm, true)});
      }};
  r[OpKind::l2_penalty] = {1, [](Builder& b, int) {
                             const L2Attrs a{0.7, 5};
                             return b.op(OpKind::l2_penalty, {b.param({3, 2}), b.param({1, 3})}, a);
                           }};
  r[OpKind::dropout] = {1, [](Builder& b, int) {
                          Expr D = dropout_mask(b.g, nm, 0.6, 7);
                          const DropoutAttrs a{0.6};
                          return b.op(OpKind::dropout, {b.param(nm), D}, a);
                        }};
  return r;
}

std::vector<NodeId> params_of(const Graph& g) {
  std::vector<NodeId> out;
  for (NodeId id = 0; id < g.size(); ++id)
    if (g.node(id).op == OpKind::param) out.push_back(id);
  return out;
}

autodiff::CheckOptions check_options(std::vector<std::string>* warnings = nullptr) {
  autodiff::CheckOptions o;
  o.full = true;
  o.eps = 1e-6;  // J here is O(10): a wider step keeps rounding (1e-16 |J| / eps) small
  o.warn = [warnings](const std::string& w) {
    if (warnings) warnings->push_back(w);
  };
  return o;
}

// J = <U, y> for a random U: dJ/dx is the rule's vector-Jacobian product.
Expr project(Builder& b, Expr y) {
  b.feeds.emplace_back("U", test::random_matrix(y.shape(), b.rng));
  return sum(mul(b.g.input("U", y.shape()), y));
}

void check_first_order(OpKind kind, const Recipe& r, int v) {
  Graph g;
  autodiff::Feeds feeds;
  std::mt19937_64 rng(100 + 7 * static_cast<int>(kind) + v);
  Builder b{g, feeds, rng};
  Expr y = r.build(b, v);
  REQUIRE(y.node().op == kind);
  Expr J = project(b, y);
  const auto report = autodiff::gradcheck(g, J.id, params_of(g), feeds, check_options());
  std::string per_param;
  for (const auto& p : report.params)
    per_param += fmt::format("{} {} rel.diff {:.3e}; ", p.name, to_string(p.shape), p.rel_diff);
  INFO(per_param);
  CHECK(report.pass);
  CHECK(report.rel_diff < 1e-7);
}

// Second order: J2 = sum_k <V_k, dJ/dp_k>; its gradient is the Hessian-vector
// product H v, checked against central differences of <v, grad J>.
void check_second_order(OpKind kind, const Recipe& r, int v) {
  Graph g;
  autodiff::Feeds feeds;
  std::mt19937_64 rng(900 + 7 * static_cast<int>(kind) + v);
  Builder b{g, feeds, rng};
  Expr J = project(b, r.build(b, v));
  std::vector<Expr> ps;
  for (NodeId id : params_of(g)) ps.push_back(g.expr(id));
  autodiff::GradientOptions quiet;
  quiet.warn = [](const std::string&) {};
  const std::vector<Expr> grads = gradients(J, ps, quiet);
  Expr J2;
  for (std::size_t k = 0; k < ps.size(); ++k) {
    const std::string name = fmt::format("V{}", k);
    feeds.emplace_back(name, test::random_matrix(ps[k].shape(), rng));
    Expr term = sum(mul(g.input(name, ps[k].shape()), grads[k]));
    J2 = J2.valid() ? J2 + term : term;
  }
  std::vector<std::string> warnings;
  const auto report = autodiff::gradcheck(g, J2.id, params_of(g), feeds, check_options(&warnings));
  for (const auto& p : report.params) INFO(p.name << " H v rel.diff " << p.rel_diff);
  CHECK(report.pass);
}

}  // namespace

TEST_CASE("every registered op passes a float64 gradient check on every broadcast pattern",
          "[autodiff]") {
  const auto table = recipes();
  for (const ops::OpDef* def : ops::all_ops()) {
    INFO("op " << def->name);
    auto it = table.find(def->kind);
    if (it == table.end()) {
      FAIL_CHECK("op " << def->name << " has no gradcheck recipe: add one to this test");
      continue;
    }
    const Recipe& r = it->second;
    if (r.variants == 0) {
      INFO("listed without a rule: " << r.no_rule);
      CHECK(def->grad == nullptr);
      continue;
    }
    REQUIRE(def->grad != nullptr);
    for (int v = 0; v < r.variants; ++v) {
      INFO("variant " << v);
      check_first_order(def->kind, r, v);
    }
  }
}

TEST_CASE("smooth ops: Hessian-vector products (grad of grad) match central differences",
          "[autodiff]") {
  const auto table = recipes();
  int checked = 0;
  for (const ops::OpDef* def : ops::all_ops()) {
    auto it = table.find(def->kind);
    if (it == table.end() || it->second.variants == 0 || !def->smooth) continue;
    INFO("op " << def->name);
    for (int v = 0; v < it->second.variants; ++v) {
      INFO("variant " << v);
      check_second_order(def->kind, it->second, v);
    }
    ++checked;
  }
  CHECK(checked >= 20);
}
