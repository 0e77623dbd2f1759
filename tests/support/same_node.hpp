// Two graphs' node `id` alike in everything a node holds: op, operands,
// attributes, shape, dtype, name, role and layer (a copy, a rebuild or a
// file read back must keep each of them).
#pragma once

#include <catch2/catch.hpp>

#include "dagrad/graph/graph.hpp"

namespace dagrad::test {

inline void check_same_node(const Graph& a_graph, const Graph& b_graph, NodeId id) {
  const Node &a = a_graph.node(id), &b = b_graph.node(id);
  INFO("node " << id << " " << a.name);
  CHECK(a.op == b.op);
  CHECK(a.inputs == b.inputs);
  CHECK(a.attrs == b.attrs);
  CHECK(a.shape == b.shape);
  CHECK(a.dtype == b.dtype);
  CHECK(a.name == b.name);
  CHECK(a.role == b.role);
  CHECK(a.layer == b.layer);
}

}  // namespace dagrad::test
