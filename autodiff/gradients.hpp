// Reverse-mode differentiation as graph construction: gradients(J, {W1, b1})
// appends the backward nodes to J's graph and returns dJ/dW1, dJ/db1. They
// are ordinary nodes: the executor runs them, the Graphviz export draws them,
// and they can be differentiated again (grad of grad, Hessian-vector products).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "dagrad/graph/graph.hpp"

namespace dagrad::autodiff {

struct GradientOptions {
  // Called with a message for each requested node J does not depend on; its
  // gradient is a zero constant. Default: print a warning to stderr.
  std::function<void(const std::string&)> warn;
  // Name the summed gradient of a named node "d" + name (dZ1, dW1, dA1).
  bool name_gradients = true;
};

std::vector<Expr> gradients(Expr J, std::span<const Expr> wrt, const GradientOptions& options = {});
std::vector<Expr> gradients(Expr J, std::initializer_list<Expr> wrt,
                            const GradientOptions& options = {});

// Sums g over the axes where `shape` is 1 and g's shape is not: the one place
// where a broadcast operand's gradient returns to its own shape.
Expr unbroadcast(Expr g, Shape shape);

}  // namespace dagrad::autodiff

namespace dagrad {
using autodiff::gradients;
}
