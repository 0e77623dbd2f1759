#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/op.hpp"

using namespace dagrad;

TEST_CASE("registry: every OpKind has its entry, names are unique", "[ops]") {
  REQUIRE(ops::all_ops().size() == static_cast<std::size_t>(op_count));
  std::set<std::string> names;
  for (int i = 0; i < op_count; ++i) {
    const auto k = static_cast<OpKind>(i);
    const ops::OpDef& d = ops::op_def(k);
    INFO("op " << i << " " << d.name);
    CHECK(d.kind == k);
    CHECK(ops::all_ops()[static_cast<std::size_t>(i)] == &d);
    CHECK_FALSE(d.name.empty());
    CHECK(names.insert(std::string(d.name)).second);
    CHECK(ops::op_from_name(d.name) == k);
    CHECK(d.shape != nullptr);
  }
}

TEST_CASE("registry: every op but the bound leaves has both kernels", "[ops]") {
  for (const ops::OpDef* d : ops::all_ops()) {
    INFO(d->name);
    // Inputs, params and state are bound to caller memory; every other op computes.
    const bool bound_leaf =
        d->kind == OpKind::input || d->kind == OpKind::param || d->kind == OpKind::state;
    CHECK((d->f32 != nullptr) == !bound_leaf);
    CHECK((d->f64 != nullptr) == !bound_leaf);
    if (d->arity != 0) CHECK_FALSE(bound_leaf);
  }
}

TEST_CASE("registry: an unknown op name is a graph error", "[ops]") {
  REQUIRE_THROWS_AS(ops::op_from_name("convolution"), GraphError);
  REQUIRE_THROWS_WITH(ops::op_from_name("convolution"), "unknown op 'convolution'");
  REQUIRE_THROWS_AS(ops::op_def(OpKind::count_), GraphError);
}
