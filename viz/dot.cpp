// DOT through graph/graphviz.hpp (Boost's write_graphviz): the vertex writer
// styles each node by its role, the edge writer labels each edge with the
// operand's shape, and the graph writer emits the graph attributes, the
// clusters (a node mentioned inside `subgraph cluster_x { }` belongs to it,
// wherever its attributes are written), the update nodes and the legend.
#include "dagrad/viz/dot.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graphviz.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/child_process.hpp"
#include "dagrad/ops/fused_net.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/viz/renderer.hpp"

namespace dagrad::viz {

namespace {

enum class Kind { input, param, constant, forward, loss, backward, update };
constexpr int kind_count = 7;

struct KindStyle {
  std::string_view cls;      // class attribute and cluster name
  std::string_view title;    // cluster and legend label
  std::string_view shape;
  std::string_view fill;
  std::string_view border;
  std::string_view cluster_fill;
};

// Colours by role, as ggml's graph dump does: inputs yellow, parameters
// green, forward blue, loss red, backward purple, update orange.
constexpr KindStyle styles[kind_count] = {
    {"input", "inputs and masks", "box", "#fff2cc", "#d6b656", "#fffcf2"},
    {"param", "parameters", "box", "#d5e8d4", "#82b366", "#f5faf4"},
    {"constant", "constants", "plaintext", "#ffffff", "#999999", "#ffffff"},
    {"forward", "forward", "ellipse", "#dae8fc", "#6c8ebf", "#f4f8fe"},
    {"loss", "loss and penalty", "octagon", "#f8cecc", "#b85450", "#fdf3f2"},
    {"backward", "backward (derived)", "ellipse", "#e1d5e7", "#9673a6", "#f9f5fb"},
    {"update", "update W := W - alpha dW", "box", "#ffe6cc", "#d79b00", "#fff8f0"},
};

const KindStyle& style_of(Kind k) { return styles[static_cast<int>(k)]; }

bool is_cost(OpKind op) {
  return op == OpKind::bce || op == OpKind::bce_logits || op == OpKind::softmax_ce ||
         op == OpKind::categorical_ce || op == OpKind::mse || op == OpKind::l2_penalty;
}

// The loss is a cost op, the L2 penalty, and forward nodes computed only
// from them (J = cost + L2).
std::vector<Kind> classify(const Graph& g) {
  std::vector<Kind> kind(g.size(), Kind::forward);
  for (NodeId id : g.topological_order()) {
    const Node& n = g.node(id);
    if (n.op == OpKind::input || n.op == OpKind::dropout_mask) kind[id] = Kind::input;
    else if (n.op == OpKind::param) kind[id] = Kind::param;
    else if (n.op == OpKind::constant) kind[id] = Kind::constant;
    else if (n.role == Role::update || n.op == OpKind::state) kind[id] = Kind::update;
    else if (n.role == Role::backward) kind[id] = Kind::backward;
    else if (is_cost(n.op)) kind[id] = Kind::loss;
    else if (std::all_of(n.inputs.begin(), n.inputs.end(),
                         [&](NodeId in) { return kind[in] == Kind::loss; }))
      kind[id] = Kind::loss;
  }
  return kind;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Lines of a label joined by DOT's centred line break.
std::string label_lines(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (std::size_t k = 0; k < lines.size(); ++k) {
    std::string q = quote(lines[k]);
    out += q.substr(1, q.size() - 2) + (k + 1 < lines.size() ? "\\n" : "");
  }
  return out + "\"";
}

// The op with the attributes that matter to a reader: "matmul A^T", "x 1/m".
std::string op_summary(const Node& n, const Notation& nt) {
  const Scale sc = n.attrs.scale_factor();
  // An optimizer's numbers by their symbols: beta1, (1 - beta1), epsilon.
  const auto hyper = [&](double v) {
    return n.role == Role::update ? nt.hyper(v, Style::text) : std::nullopt;
  };
  const std::string scale = hyper(sc.value).value_or(
      nt.scale(sc, Style::text).value_or(format_number(sc.value)));
  std::string name(ops::op_def(n.op).name);
  switch (n.op) {
    case OpKind::matmul: {
      const MatmulAttrs& m = n.attr<MatmulAttrs>();
      return fmt::format("matmul{}{}{}", m.trans_a ? " A^T" : "", m.trans_b ? " B^T" : "",
                         !sc.is_one() ? ", " + scale : "");
    }
    case OpKind::affine: {
      const double offset = n.attr<AffineAttrs>().offset;
      if (offset == 0.0) return scale + " x";
      if (sc == Scale(-1.0)) return fmt::format("{} - x", format_number(offset));
      if (sc.is_one()) return fmt::format("x + {}", hyper(offset).value_or(format_number(offset)));
      return fmt::format("{} x + {}", scale, hyper(offset).value_or(format_number(offset)));
    }
    case OpKind::sum: {
      const int axis = n.attr<SumAttrs>().axis;
      return fmt::format("{}sum{}", !sc.is_one() ? scale + " " : "",
                         axis >= 0 ? fmt::format(" axis={}", axis) : "");
    }
    case OpKind::step: {
      const double slope = n.attr<SlopeAttrs>().slope;
      return slope == 0.0 ? "step (x > 0)" : fmt::format("step (x > 0 : {})", format_number(slope));
    }
    case OpKind::dropout: return fmt::format("dropout / {}", format_number(n.attr<DropoutAttrs>().keep_prob));
    case OpKind::dropout_mask: return fmt::format("mask keep_prob={}", format_number(n.attr<MaskAttrs>().keep_prob));
    case OpKind::leaky_relu: return fmt::format("leaky_relu {}", format_number(n.attr<SlopeAttrs>().slope));
    case OpKind::constant: return format_number(n.attr<ConstantAttrs>().value);
    case OpKind::l2_penalty: return fmt::format("l2_penalty lambda={}", format_number(n.attr<L2Attrs>().lambda));
    case OpKind::fused_net: {
      const auto& net = n.attr<FusedNetAttrs>().net;
      if (!net) return name;
      return fmt::format("fused_net {}; in place of {}", net->summary(), net->replaced_summary());
    }
    default: return name;
  }
}

// ---- the full drawing ------------------------------------------------------

struct Scene {
  const Graph& g;
  const DotOptions& opt;
  std::vector<Kind> kind;
  std::vector<SymbolicShape> shapes;
  std::vector<bool> live;
  std::vector<bool> context;  // drawn only as an operand of the layer slice
  std::vector<NodeId> drawn;
  std::vector<ParamGradient> updates;
};

std::string node_attrs(const Scene& s, Kind k, const std::vector<std::string>& lines, bool dim,
                       bool dashed) {
  const KindStyle& st = style_of(k);
  std::string style = k == Kind::constant ? "solid" : "filled";
  if (k == Kind::input || k == Kind::param || k == Kind::update) style += ",rounded";
  if (dashed || dim) style += ",dashed";
  (void)s;
  return fmt::format(" [label={}, class=\"{}{}\", shape={}, style=\"{}\", fillcolor=\"{}\", "
                     "color=\"{}\", fontcolor=\"{}\"]",
                     label_lines(lines), st.cls, dim ? " dead" : "", st.shape, style,
                     dim ? "#f5f5f5" : st.fill, dim ? "#bbbbbb" : st.border,
                     dim ? "#999999" : "#000000");
}

void write_vertex(std::ostream& out, const Scene& s, NodeId id) {
  const Node& n = s.g.node(id);
  std::vector<std::string> lines;
  if (!n.name.empty()) lines.push_back(s.opt.notation.name(n.name));
  if (n.op == OpKind::assign) {  // an optimizer's update of a parameter or state
    lines.push_back(s.opt.notation.name(s.g.node(n.inputs[0]).name) + " :=");
    out << node_attrs(s, s.kind[id], lines, !s.live[id], s.context[id]);
    return;
  }
  const bool leaf = n.inputs.empty() && n.op != OpKind::constant;
  if (leaf) lines.push_back(s.opt.notation.shape(s.shapes[id]));
  if (!leaf || n.op == OpKind::dropout_mask) lines.push_back(op_summary(n, s.opt.notation));
  if (lines.empty()) lines.push_back(s.g.describe(id));
  out << node_attrs(s, s.kind[id], lines, !s.live[id], s.context[id]);
}

std::string_view edge_color(Kind to) {
  return to == Kind::backward ? "#9673a6" : to == Kind::loss ? "#b85450" : "#555555";
}

void write_edge(std::ostream& out, const Scene& s, NodeId from, NodeId to) {
  const std::string_view color = !s.live[to] ? "#cccccc" : edge_color(s.kind[to]);
  out << fmt::format(" [label={}, color=\"{}\", fontcolor=\"{}\"]",
                     quote(s.opt.notation.shape(s.shapes[from])), color, color);
}

void write_graph_attrs(std::ostream& out, const DotOptions& opt) {
  out << fmt::format("rankdir={};\nnewrank=true;\nnodesep=0.3;\nranksep=0.45;\n", opt.rankdir);
  out << "fontname=\"Helvetica\";\nfontsize=13;\n";
  out << "node [fontname=\"Helvetica\", fontsize=11, penwidth=1.2];\n";
  out << "edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7];\n";
}

// subgraph cluster_<role> { ids } for each role that has members.
void write_clusters(std::ostream& out, const std::vector<std::vector<std::string>>& members,
                    const std::vector<std::string>& extra_lines) {
  for (int k = 0; k < kind_count; ++k) {
    const KindStyle& st = styles[k];
    if (members[k].empty() && !(k == static_cast<int>(Kind::update) && !extra_lines.empty()))
      continue;
    if (static_cast<Kind>(k) == Kind::constant) continue;
    out << fmt::format("subgraph cluster_{} {{\n  label={}; class=\"{}\"; style=\"rounded,filled\"; "
                       "fillcolor=\"{}\"; color=\"{}\"; fontcolor=\"{}\";\n",
                       st.cls, quote(st.title), st.cls, st.cluster_fill, st.border, st.border);
    for (const std::string& id : members[k]) out << "  " << id << ";\n";
    if (static_cast<Kind>(k) == Kind::update)
      for (const std::string& line : extra_lines) out << "  " << line << "\n";
    out << "}\n";
  }
}

void write_legend(std::ostream& out, bool with_dead) {
  std::string rows;
  for (const KindStyle& st : styles) {
    if (st.cls == "constant") continue;
    rows += fmt::format("<TD BGCOLOR=\"{}\" COLOR=\"{}\">{}</TD>", st.fill, st.border, st.cls);
  }
  if (with_dead) rows += "<TD BGCOLOR=\"#f5f5f5\" COLOR=\"#bbbbbb\">not scheduled</TD>";
  out << "legend [class=\"legend\", shape=plaintext, fontsize=10, label=<<TABLE BORDER=\"0\" "
         "CELLBORDER=\"1\" CELLSPACING=\"3\" CELLPADDING=\"4\"><TR><TD BORDER=\"0\"><B>roles</B>"
         "</TD>"
      << rows << "</TR></TABLE>>];\n";
}

std::vector<std::string> update_lines(const Scene& s) {
  std::vector<std::string> lines;
  const Notation& nt = s.opt.notation;
  for (const ParamGradient& u : s.updates) {
    const std::string p = nt.name(s.g.node(u.param).name);
    const std::string d = s.g.node(u.grad).name.empty() ? "d" + p : nt.name(s.g.node(u.grad).name);
    lines.push_back(fmt::format("u{}{};", u.param,
                                node_attrs(s, Kind::update,
                                           {fmt::format("{} := {} - alpha {}", p, p, d)}, false,
                                           false)));
  }
  for (const ParamGradient& u : s.updates) {
    lines.push_back(fmt::format("n{} -> u{} [color=\"#82b366\", style=dashed];", u.param, u.param));
    lines.push_back(fmt::format("n{} -> u{} [label={}, color=\"#d79b00\", fontcolor=\"#d79b00\"];",
                                u.grad, u.param, quote(s.opt.notation.shape(s.shapes[u.grad]))));
  }
  return lines;
}

void write_scene_graph(std::ostream& out, const Scene& s) {
  write_graph_attrs(out, s.opt);
  std::vector<std::vector<std::string>> members(kind_count);
  for (NodeId id : s.drawn) members[static_cast<int>(s.kind[id])].push_back(fmt::format("n{}", id));
  write_clusters(out, members, update_lines(s));
  if (s.opt.legend) write_legend(out, s.opt.show_dead);
}

// The nodes to draw, in creation order.
void choose_nodes(Scene& s, std::span<const NodeId> outputs) {
  for (NodeId id : s.g.schedule(outputs)) s.live[id] = true;
  std::vector<bool> pick(s.g.size(), false);
  for (NodeId id = 0; id < s.g.size(); ++id) {
    const Node& n = s.g.node(id);
    if (!s.live[id] && !s.opt.show_dead) continue;
    if (s.opt.forward_only && n.role == Role::backward) continue;
    if (s.opt.layer > 0 && n.layer != s.opt.layer) continue;
    pick[id] = true;
  }
  if (s.opt.layer > 0) {
    for (NodeId id = 0; id < s.g.size(); ++id) {
      if (!pick[id] || s.context[id]) continue;
      for (NodeId in : s.g.node(id).inputs)
        if (!pick[in]) pick[in] = s.context[in] = true;
    }
  }
  // Node order only guides the layout: creation order reads best.
  for (NodeId id = 0; id < s.g.size(); ++id)
    if (pick[id]) s.drawn.push_back(id);
}


// ---- one box per layer and role ---------------------------------------------

struct Boxes {
  std::vector<std::string> title;
  std::vector<std::vector<std::string>> members;  // the notes' names inside
  std::vector<Kind> kind;
  std::map<std::string, std::size_t> index;

  std::size_t add(const std::string& key, std::string box_title, Kind k) {
    auto [it, fresh] = index.emplace(key, title.size());
    if (fresh) {
      title.push_back(std::move(box_title));
      members.emplace_back();
      kind.push_back(k);
    }
    return it->second;
  }
};

// The box of a node: X and Y alone, then per layer its parameters, its
// forward nodes (with the dropout mask) and its backward nodes; one loss box.
std::optional<std::size_t> box_of(Boxes& b, const Node& n, Kind k) {
  const int l = n.layer;
  switch (k) {
    case Kind::input:
      if (n.op == OpKind::input) return b.add("in:" + n.name, n.name, k);
      return b.add(fmt::format("fwd:{}", l), fmt::format("layer {}", l), Kind::forward);
    case Kind::param: return b.add(fmt::format("par:{}", l), fmt::format("layer {} parameters", l), k);
    case Kind::forward: return b.add(fmt::format("fwd:{}", l), fmt::format("layer {}", l), k);
    case Kind::loss: return b.add("loss", "loss", k);
    case Kind::backward:
      return b.add(fmt::format("bwd:{}", l), fmt::format("layer {} backward", l), k);
    default: return std::nullopt;
  }
}


std::string box_label(const Boxes& b, std::size_t k) {
  std::string names;
  for (const std::string& n : b.members[k]) names += (names.empty() ? "" : ", ") + n;
  if (b.kind[k] != Kind::update) return label_lines({b.title[k], names});
  std::vector<std::string> lines{b.title[k]};
  for (const std::string& p : b.members[k]) lines.push_back(fmt::format("{0} := {0} - alpha d{0}", p));
  return label_lines(lines);
}

std::string write_boxes(const Boxes& b, std::span<const std::pair<std::size_t, std::size_t>> edges,
                        const std::vector<std::string>& edge_label, const DotOptions& opt) {
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> edge_index;
  for (std::size_t k = 0; k < edges.size(); ++k) edge_index[edges[k]] = k;
  GraphvizWriters w;
  w.id = [](std::size_t v) { return fmt::format("g{}", v); };
  w.vertex = [&](std::ostream& o, std::size_t v) {
    const KindStyle& st = style_of(b.kind[v]);
    o << fmt::format(" [label={}, class=\"{}\", shape=box, style=\"filled,rounded\", "
                     "fillcolor=\"{}\", color=\"{}\"]",
                     box_label(b, v), st.cls, st.fill, st.border);
  };
  w.edge = [&](std::ostream& o, std::size_t from, std::size_t to) {
    const std::string& label = edge_label[edge_index.at({from, to})];
    if (b.kind[to] == Kind::update)
      o << (b.kind[from] == Kind::param ? " [color=\"#82b366\", style=dashed]"
                                        : " [color=\"#d79b00\"]");
    else
      o << fmt::format(" [label={}, color=\"{}\", fontcolor=\"{}\"]", quote(label),
                       edge_color(b.kind[to]), edge_color(b.kind[to]));
  };
  w.graph = [&](std::ostream& o) {
    write_graph_attrs(o, opt);
    std::vector<std::vector<std::string>> members(kind_count);
    for (std::size_t v = 0; v < b.title.size(); ++v)
      members[static_cast<int>(b.kind[v])].push_back(fmt::format("g{}", v));
    write_clusters(o, members, {});
    if (opt.legend) write_legend(o, false);
  };
  std::ostringstream out;
  write_graphviz(out, b.title.size(), edges, w);
  return out.str();
}

std::string dot_collapsed(const Graph& g, std::span<const NodeId> outputs,
                          std::span<const ParamGradient> updates, const DotOptions& opt) {
  const std::vector<Kind> kind = classify(g);
  const std::vector<SymbolicShape> shapes = symbolic_shapes(g, opt.notation);
  std::vector<std::optional<std::size_t>> box(g.size());
  Boxes b;
  std::vector<NodeId> order = g.schedule(outputs);
  std::sort(order.begin(), order.end());  // creation order: W[l] before b[l]
  for (NodeId id : order) {
    const Node& n = g.node(id);
    if (opt.forward_only && n.role == Role::backward) continue;
    box[id] = box_of(b, n, kind[id]);
    if (!box[id] || n.name.empty()) continue;
    // An input box shows its shape; the others list the notes' names inside.
    b.members[*box[id]].push_back(n.op == OpKind::input ? opt.notation.shape(shapes[id])
                                                        : opt.notation.name(n.name));
  }
  // Edges between boxes, labelled with the shape when one node feeds them all.
  std::map<std::pair<std::size_t, std::size_t>, std::vector<NodeId>> sources;
  for (NodeId id = 0; id < g.size(); ++id)
    for (NodeId in : g.node(id).inputs)
      if (box[id] && box[in] && *box[id] != *box[in]) {
        auto& v = sources[{*box[in], *box[id]}];
        if (std::find(v.begin(), v.end(), in) == v.end()) v.push_back(in);
      }
  if (!opt.forward_only)
    for (const ParamGradient& u : updates) {
      if (!box[u.param] || !box[u.grad]) continue;
      const std::size_t ub = b.add(fmt::format("upd:{}", g.node(u.param).layer),
                                   fmt::format("layer {} update", g.node(u.param).layer), Kind::update);
      b.members[ub].push_back(opt.notation.name(g.node(u.param).name));
      for (NodeId from : {u.param, u.grad}) sources[{*box[from], ub}].push_back(from);
    }
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  std::vector<std::string> edge_label;
  for (const auto& [e, from] : sources) {
    edges.push_back(e);
    edge_label.push_back(from.size() == 1 ? opt.notation.shape(shapes[from[0]]) : "");
  }
  return write_boxes(b, edges, edge_label, opt);
}

}  // namespace

std::string to_dot(const Graph& g, std::span<const NodeId> outputs,
                   std::span<const ParamGradient> updates, const DotOptions& options) {
  if (options.rankdir != "TB" && options.rankdir != "LR" && options.rankdir != "BT" &&
      options.rankdir != "RL")
    throw InputError(fmt::format("--rankdir '{}' is not TB, LR, BT or RL", options.rankdir));
  if (options.collapse && options.layer > 0)
    throw InputError("--collapse and --layer cannot be combined: a slice is one layer already");
  if (options.collapse) return dot_collapsed(g, outputs, updates, options);
  Scene s{g, options, classify(g), symbolic_shapes(g, options.notation),
          std::vector<bool>(g.size(), false), std::vector<bool>(g.size(), false), {}, {}};
  choose_nodes(s, outputs);
  if (options.layer > 0 && s.drawn.empty())
    throw InputError(fmt::format("--layer {}: no node of the graph is in that layer", options.layer));
  std::vector<bool> is_drawn(g.size(), false);
  for (NodeId id : s.drawn) is_drawn[id] = true;
  if (!options.forward_only)
    for (const ParamGradient& u : updates)
      if (is_drawn[u.param] && is_drawn[u.grad]) s.updates.push_back(u);

  GraphvizWriters w;
  w.vertex = [&](std::ostream& o, std::size_t id) { write_vertex(o, s, static_cast<NodeId>(id)); };
  w.edge = [&](std::ostream& o, std::size_t a, std::size_t b) {
    write_edge(o, s, static_cast<NodeId>(a), static_cast<NodeId>(b));
  };
  w.graph = [&](std::ostream& o) { write_scene_graph(o, s); };
  std::ostringstream out;
  write_graphviz(out, g, s.drawn, w);
  return out.str();
}

// ---- rendering through Graphviz's dot -----------------------------------------

namespace {

// Runs `dot -T<format> -o out in` (io::run_program: no shell, so no quoting
// of paths; the child dies with dagrad); throws on failure.
void run_dot(const std::string& exe, const std::string& format, const std::string& in,
             const std::string& out, const std::string& target) {
  const io::ProgramResult r = io::run_program({exe, "-T" + format, "-o" + out, in});
  if (!r.ok())
    throw InputError(fmt::format("'{}' failed rendering '{}': {}", exe, target,
                                 r.err.empty() ? "no message" : r.err));
}

}  // namespace

std::string check_dot_path(const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext == "dot" || ext == "gv") return "";
  if (ext != "svg" && ext != "png" && ext != "pdf")
    throw InputError(fmt::format("cannot write '{}': {} (use .dot, .gv, .svg, .png or .pdf)", path,
                                 ext.empty() ? "no extension" : fmt::format("unknown extension '.{}'", ext)));
  const std::string exe = find_on_path("dot");
  if (exe.empty())
    throw InputError(fmt::format("cannot write '{}': rendering .{} needs Graphviz's `dot` "
                                 "program, which is not on PATH. Install it with "
                                 "`apt-get install graphviz`, or write a .dot file instead",
                                 path, ext));
  return exe;
}

void write_dot_file(const std::string& path, const std::string& dot) {
  // Checked before any file exists, so a missing Graphviz leaves nothing behind.
  const std::string exe = check_dot_path(path);
  io::AtomicFile out(path);
  if (exe.empty()) {
    out.write(dot);
    out.commit();
    return;
  }
  // The DOT source is a scratch file under $TMPDIR, removed when `source` dies.
  io::TempFile source(".dot");
  source.write(dot);
  run_dot(exe, lower_extension(path), source.path().string(), out.temp_path().string(), path);
  out.commit();
}

}  // namespace dagrad::viz
