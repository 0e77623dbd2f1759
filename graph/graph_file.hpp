// Graph files: any graph built in C++ (forward, and backward when derived)
// as JSON, with each node's op, operands, attributes, shape, name, role and
// layer. The format is documented in docs/graph_format.md.
//
//   save(g, "model.json");  Graph g2 = load("model.json");
//
// save writes atomically (io::AtomicFile); save -> load -> save gives the same
// bytes. load rebuilds the graph through Graph::from_nodes, which rejects
// cycles and dangling edges and re-runs every shape rule.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dagrad/graph/graph.hpp"

namespace dagrad {

// The "version" field this dagrad writes. Version 2 added the symbolic sample
// count ("m" as a dimension), the optimizer's ops and roles, and the model
// section; files of version 1 are read too.
inline constexpr int graph_format_version = 2;

// What the nodes are for, by name: the cost J, the outputs a model predicts
// (A2) and the parameters to train. Empty when the file does not say.
struct GraphRoles {
  std::string cost;
  std::vector<std::string> outputs;
  std::vector<std::string> params;
  bool empty() const { return cost.empty() && outputs.empty() && params.empty(); }
};

// The JSON text of `g` (UTF-8, one node per line, ending in a newline), with
// the roles as its "model" section when given. Throws GraphError for a value
// JSON cannot hold (a NaN or infinite attribute).
std::string to_json(const Graph& g, const GraphRoles& roles = {});
void save(const Graph& g, const std::filesystem::path& path, const GraphRoles& roles = {});

struct GraphFile {
  Graph graph;
  GraphRoles roles;
};

// Parses a graph file's text; `origin` (the file name) starts every message.
// Bad JSON, a truncated file or a wrong field is an InputError; an unknown op,
// a cycle or a dangling edge a GraphError; shapes that do not fit a ShapeError.
// Each names the node (index and name) at fault.
GraphFile graph_file_from_json(std::string_view text, std::string_view origin);
Graph graph_from_json(std::string_view text, std::string_view origin);
GraphFile load_graph_file(const std::filesystem::path& path);
Graph load(const std::filesystem::path& path);

}  // namespace dagrad
