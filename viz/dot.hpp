// The graph as a Graphviz picture: forward nodes, derived backward nodes,
// parameters, inputs, the loss and penalty, and the update W := W - alpha dW
// each in a cluster of its own colour, nodes labelled with the notes' names
// (Z[1], dW[2]) and op, edges with shapes in the notes' symbols (n[1] x m).
//
// Only nodes the outputs need are drawn: the executor never runs the others
// (a scale that the DSL moved outward, a transpose folded into a GEMM, the
// seed 1 of the reverse pass). `show_dead` draws them too, dashed and grey.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "dagrad/graph/graph.hpp"
#include "dagrad/viz/notation.hpp"

namespace dagrad::viz {

struct DotOptions {
  bool forward_only = false;  // leave out the backward nodes and the updates
  int layer = 0;              // > 0: only layer K, plus its operands (dashed)
  bool collapse = false;      // one box per layer and role (for deep nets)
  bool show_dead = false;     // also draw nodes the outputs do not need
  bool legend = true;
  std::string rankdir = "TB";
  Notation notation;          // symbols for names, shapes and scales
};

// The DOT text. Each ParamGradient is drawn as the update node
// "W[1] := W[1] - alpha dW[1]": the optimizer applies the update to the
// parameter buffers outside the graph, so it exists only in the picture.
// `outputs` are what is computed (J and the gradients); the
// drawn nodes are their schedule. Every node and cluster carries a `class`
// attribute naming its role: input, param, constant, forward, loss, backward,
// update (and dead with show_dead).
std::string to_dot(const Graph& g, std::span<const NodeId> outputs,
                   std::span<const ParamGradient> updates, const DotOptions& options = {});

// Writes `dot` to `path` by its extension: .dot or .gv as text; .svg, .png or
// .pdf rendered by Graphviz's `dot` program (spawned without a shell). When
// `dot` is not on PATH, throws InputError saying how to install it before any
// file is created. Atomic: `path` is complete or untouched.
void write_dot_file(const std::string& path, const std::string& dot);
// The check write_dot_file makes first (extension, Graphviz on PATH), for
// callers that validate outputs before any work; returns `dot`'s path, or ""
// for a .dot/.gv file.
std::string check_dot_path(const std::string& path);

}  // namespace dagrad::viz
