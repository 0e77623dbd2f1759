// `dagrad explain`: the derived backward graph read back as the notes'
// equations, one line per backward step, with its shape:
//
//   dZ[2] = A[2] - Y                     (1 x m)
//   dW[2] = 1/m dZ[2] A[1]^T             (1 x n[1])
//
// Each line is the expression tree of one named backward node (dZ1, dW1, ...)
// with unnamed intermediate nodes inlined, so a change to a gradient rule or
// to the DSL's identities shows up here.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/viz/notation.hpp"

namespace dagrad::viz {

struct ExplainLine {
  NodeId node = 0;
  std::string lhs;    // dZ[2]
  std::string rhs;    // A[2] - Y
  std::string shape;  // (1 x m)
};

// The backward steps that compute `outputs` (the gradients). A line is made
// for each output, each named backward node, and each unnamed backward node
// used more than once (named t1, t2, ...). A dA[l] node is inlined into its
// single consumer unless dropout sits between them, as the notes' derivation
// does. Lines follow the notes' order (layer L down to 1; dA, dZ, dW, db)
// when every line has a name from the notes, else topological order.
std::vector<ExplainLine> explain_lines(const Graph& g, std::span<const NodeId> outputs,
                                       const Notation& notation, Style style = Style::text);

// Text: "lhs = rhs" padded to a common width, then the shape. LaTeX: an
// `aligned` environment, "lhs &= rhs && shape" per line.
std::string format_explain(std::span<const ExplainLine> lines, Style style = Style::text);

}  // namespace dagrad::viz
