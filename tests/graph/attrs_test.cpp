// Typed attributes: each op carries its own attribute type, a node given
// another is refused naming the op and both kinds, a read as the wrong kind
// names the node, and equal attributes (only) make one value.
#include <catch2/catch.hpp>

#include "dagrad/dagrad.hpp"
#include "dagrad/ops/op.hpp"

using namespace dagrad;

namespace {

// One default value of every attribute type, in AttrsVariant's order.
const std::vector<Attrs>& every_kind() {
  static const std::vector<Attrs> all{NoAttrs{},     ConstantAttrs{}, MatmulAttrs{}, AffineAttrs{},
                                      SlopeAttrs{},  SumAttrs{},      L2Attrs{},     MaskAttrs{},
                                      DropoutAttrs{}, HyperAttrs{},   UpdateAttrs{}, BucketAttrs{},
                                      FusedNetAttrs{}};
  return all;
}

}  // namespace

TEST_CASE("attrs: the list of kinds is AttrsVariant, in order", "[graph][attrs]") {
  REQUIRE(every_kind().size() == std::variant_size_v<AttrsVariant>);
  for (std::size_t k = 0; k < every_kind().size(); ++k) CHECK(every_kind()[k].index() == k);
}

TEST_CASE("attrs: each op declares its attribute type", "[graph][attrs]") {
  // The ops that read attributes, and the type each reads (by hand, from
  // graph/node.hpp's comments on the ops); the op files declare them.
  CHECK(ops::attrs_kind(OpKind::constant) == attrs_index<ConstantAttrs>());
  CHECK(ops::attrs_kind(OpKind::matmul) == attrs_index<MatmulAttrs>());
  CHECK(ops::attrs_kind(OpKind::matmul_bias) == attrs_index<MatmulAttrs>());
  CHECK(ops::attrs_kind(OpKind::affine) == attrs_index<AffineAttrs>());
  CHECK(ops::attrs_kind(OpKind::leaky_relu) == attrs_index<SlopeAttrs>());
  CHECK(ops::attrs_kind(OpKind::step) == attrs_index<SlopeAttrs>());
  CHECK(ops::attrs_kind(OpKind::step_mul) == attrs_index<SlopeAttrs>());
  CHECK(ops::attrs_kind(OpKind::sum) == attrs_index<SumAttrs>());
  CHECK(ops::attrs_kind(OpKind::l2_penalty) == attrs_index<L2Attrs>());
  CHECK(ops::attrs_kind(OpKind::dropout_mask) == attrs_index<MaskAttrs>());
  CHECK(ops::attrs_kind(OpKind::dropout) == attrs_index<DropoutAttrs>());
  CHECK(ops::attrs_kind(OpKind::assign) == attrs_index<HyperAttrs>());
  CHECK(ops::attrs_kind(OpKind::update) == attrs_index<UpdateAttrs>());
  CHECK(ops::attrs_kind(OpKind::allreduce_part) == attrs_index<BucketAttrs>());
  CHECK(ops::attrs_kind(OpKind::fused_net) == attrs_index<FusedNetAttrs>());
  CHECK(ops::attrs_kind(OpKind::add) == attrs_index<NoAttrs>());
  CHECK(ops::attrs_kind(OpKind::mse) == attrs_index<NoAttrs>());
  // A node built without attributes carries its op's type, with its defaults.
  Graph g;
  const Expr A = g.input("A", {2, 2}), B = g.input("B", {2, 2});
  const Node& mm = g.add(OpKind::matmul, {A.id, B.id}).node();
  CHECK(mm.attrs == Attrs(MatmulAttrs{}));
  CHECK(mm.attr<MatmulAttrs>().scale.is_one());
  CHECK(g.add(OpKind::leaky_relu, {A.id}).node().attr<SlopeAttrs>().slope == 0.01);
  CHECK(g.add(OpKind::add, {A.id, B.id}).node().attrs.is<NoAttrs>());
}

TEST_CASE("attrs: an op given another op's attribute type is refused", "[graph][attrs]") {
  Graph g;
  const Expr A = g.input("A", {2, 2}), B = g.input("B", {2, 2});
  REQUIRE_THROWS_AS(g.add(OpKind::matmul, {A.id, B.id}, AffineAttrs{2.0, 1.0}), GraphError);
  CHECK_THROWS_WITH(g.add(OpKind::matmul, {A.id, B.id}, AffineAttrs{2.0, 1.0}),
                    "matmul node is given affine attributes; its op takes matmul attributes");
  CHECK_THROWS_WITH(g.add(OpKind::add, {A.id, B.id}, SlopeAttrs{0.5}),
                    "add node is given slope attributes; its op takes no attributes");
  // L2's m and a bucket's offset are different fields of different types.
  CHECK_THROWS_WITH(g.add(OpKind::l2_penalty, {A.id}, BucketAttrs{5}),
                    "l2_penalty node is given bucket attributes; its op takes l2 attributes");
  // Every op, every kind but its own: refused before its shape rule runs.
  for (const ops::OpDef* d : ops::all_ops()) {
    const std::size_t n = d->arity < 0 ? 1 : std::size_t(d->arity);
    const std::vector<NodeId> ins(n, A.id);
    for (const Attrs& a : every_kind()) {
      if (a.index() == ops::attrs_kind(d->kind) || a.is<NoAttrs>()) continue;
      INFO(d->name << " given " << attrs_name(a.index()));
      CHECK_THROWS_WITH(g.add(d->kind, ins, a, {2, 2}),
                        Catch::Contains(std::string(d->name) + " node is given") &&
                            Catch::Contains("its op takes"));
    }
  }
}

TEST_CASE("attrs: reading the wrong kind names the node and both kinds", "[graph][attrs]") {
  Graph g;
  const Expr A = g.input("A", {2, 2}), B = g.input("B", {2, 2});
  const Expr Z = matmul(A, B).named("Z");
  CHECK_THROWS_WITH(Z.node().attr<AffineAttrs>(),
                    "matmul node 'Z' carries matmul attributes, read as affine attributes");
  CHECK_THROWS_WITH(Z.node().attrs.get<L2Attrs>(), "matmul attributes read as l2 attributes");
  CHECK(Z.node().attr<MatmulAttrs>().trans_a == false);
}

TEST_CASE("attrs: equal attributes are one value, different ones two", "[graph][attrs]") {
  Graph g;
  const Expr A = g.input("A", {2, 2}), B = g.input("B", {2, 2});
  const NodeId half = g.add(OpKind::matmul, {A.id, B.id}, MatmulAttrs{0.5}).id;
  CHECK(g.add(OpKind::matmul, {A.id, B.id}, MatmulAttrs{0.5}).id == half);
  CHECK(g.add(OpKind::matmul, {A.id, B.id}, MatmulAttrs{0.5, true}).id != half);
  CHECK(g.add(OpKind::matmul, {A.id, B.id}, MatmulAttrs{Scale(0.5, -1)}).id != half);
  // The default and no attributes at all are the same node.
  CHECK(g.add(OpKind::matmul, {A.id, B.id}).id == g.add(OpKind::matmul, {A.id, B.id}, MatmulAttrs{}).id);
  // -0.0 == 0.0: one constant.
  CHECK(g.constant(0.0, {1, 1}).id == g.constant(-0.0, {1, 1}).id);
  // Same numbers in different kinds are different values: affine 2x + 0 is
  // not matmul's alpha 2.
  CHECK(Attrs(AffineAttrs{2.0}) != Attrs(MatmulAttrs{2.0}));
  CHECK(Attrs(L2Attrs{1.0, 7}) != Attrs(BucketAttrs{7}));
}
