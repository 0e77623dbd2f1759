#include "dagrad/studio/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/read_file.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/studio/temp_dir.hpp"
#include "dagrad/train/batches.hpp"
#include "dagrad/viz/dot.hpp"
#include "dagrad/viz/explain.hpp"
#include "dagrad/viz/svg.hpp"

namespace dagrad::studio {

namespace {

std::string phase_of(Role r) {
  if (r == Role::backward) return "backward";
  if (r == Role::update || r == Role::state) return "update";
  return "forward";
}

bool is_value_leaf(OpKind op) { return op == OpKind::param || op == OpKind::state; }

std::size_t bytes_of(const runtime::Tensor& t) {
  return static_cast<std::size_t>(t.size()) * dtype_size(t.dtype());
}

double at(const ops::Buffer& b, DType dtype, std::int64_t k) {
  return dtype == DType::f32 ? double(b.as<const float>()[k]) : b.as<const double>()[k];
}

std::string num(double v) { return fmt::format("{:.4g}", v); }

// "(n[1] x m)" -> "n[1] x m"
std::string bare(std::string s) {
  if (s.size() >= 2 && s.front() == '(' && s.back() == ')') return s.substr(1, s.size() - 2);
  return s;
}


}  // namespace

Inspector::Inspector(const models::Model& model)
    : d_(viz::derivation_of(model)), epoch_(model.dtype(), {1, 1}) {
  const Graph& g = d_.graph;
  outputs_ = d_.outputs();
  if (d_.prediction) outputs_.push_back(*d_.prediction);
  runtime::ExecutorOptions eo;
  eo.plan.share = false;
  exec_ = std::make_unique<runtime::Executor>(g, outputs_, eo);
  const std::span<const NodeId> schedule = exec_->schedule();

  // Equations: the backward and update lines as `dagrad explain` prints
  // them, then the forward nodes that carry a name.
  std::map<NodeId, viz::ExplainLine> lines;
  std::vector<NodeId> shown = d_.grads;
  shown.insert(shown.end(), d_.assigns.begin(), d_.assigns.end());
  if (!shown.empty())
    for (viz::ExplainLine& l : viz::explain_lines(g, shown, d_.notation)) lines[l.node] = l;
  std::vector<NodeId> named_forward;
  for (NodeId id : schedule) {
    const Node& n = g.node(id);
    if (n.role == Role::forward && !n.name.empty() && !lines.count(id) && n.op != OpKind::input &&
        n.op != OpKind::param && n.op != OpKind::constant)
      named_forward.push_back(id);
  }
  if (!named_forward.empty())
    for (viz::ExplainLine& l : viz::explain_lines(g, named_forward, d_.notation)) lines.emplace(l.node, l);

  const std::vector<viz::SymbolicShape> shapes = viz::symbolic_shapes(g, d_.notation);
  index_of_.assign(g.size(), std::nullopt);
  std::set<std::string> taken;
  for (NodeId id : schedule) {
    const Node& n = g.node(id);
    NodeInfo info;
    info.id = id;
    info.op = std::string(ops::op_def(n.op).name);
    info.shape = bare(d_.notation.shape(shapes[id]));
    info.phase = phase_of(n.role);
    info.inputs = n.inputs;
    auto line = lines.find(id);
    if (line != lines.end()) {
      info.equation = line->second.lhs + " = " + line->second.rhs;
      info.name = n.op == OpKind::assign ? line->second.lhs + ":=" : line->second.lhs;
    } else if (!n.name.empty()) {
      info.name = d_.notation.name(n.name);
    } else {
      info.name = fmt::format("%{}", id);
    }
    if (taken.count(info.name)) info.name = n.name.empty() || taken.count(n.name) ? fmt::format("%{}", id) : n.name;
    taken.insert(info.name);
    index_of_[id] = nodes_.size();
    nodes_.push_back(std::move(info));
  }
  // The copies the plan's parameter and state leaves are bound to.
  for (NodeId id : schedule) {
    const Node& n = g.node(id);
    if (!is_value_leaf(n.op)) continue;
    const runtime::Tensor& v = model.value(n.name);
    bound_.emplace_back(id, v);
    before_.emplace_back(id, v);
  }
  for (auto& [id, t] : bound_) exec_->bind(id, t);
  if (model.updates().epoch.valid() && index_of_[model.updates().epoch.id])
    exec_->bind(model.updates().epoch.id, epoch_);
}

std::optional<std::size_t> Inspector::find(std::string_view name) const {
  for (std::size_t k = 0; k < nodes_.size(); ++k)
    if (nodes_[k].name == name) return k;
  return std::nullopt;
}

const std::string& Inspector::svg() {
  if (!svg_.empty()) return svg_;
  viz::DotOptions o;
  o.notation = d_.notation;
  const std::string dot = viz::to_dot(d_.graph, d_.outputs(), d_.updates, o);
  TempDir dir;
  const std::filesystem::path file = dir.path / "graph.svg";
  viz::write_dot_file(file.string(), dot);
  const std::vector<std::uint8_t> bytes = io::read_file_bytes(file);
  std::string svg(bytes.begin(), bytes.end());
  // Graphviz writes each node as <g id="nodeK" class="..."><title>nID</title>:
  // the title names the graph node (to_dot's "n{id}").
  std::string out;
  out.reserve(svg.size() + nodes_.size() * 32);
  std::size_t at = 0;
  for (;;) {
    const std::size_t g = svg.find("<g id=\"node", at);
    if (g == std::string::npos) break;
    const std::size_t t = svg.find("<title>", g), te = svg.find("</title>", g);
    out.append(svg, at, g + 2 - at);  // through "<g"
    at = g + 2;
    if (t == std::string::npos || te == std::string::npos || te < t) continue;
    const std::string title = svg.substr(t + 7, te - t - 7);
    if (title.size() < 2 || title[0] != 'n') continue;
    char* end = nullptr;
    const unsigned long id = std::strtoul(title.c_str() + 1, &end, 10);
    if (*end != '\0' || id >= index_of_.size() || !index_of_[id]) continue;
    out += " data-node=\"" + viz::svg_escape(nodes_[*index_of_[id]].name) + "\"";
  }
  out.append(svg, at, std::string::npos);
  svg_ = std::move(out);
  return svg_;
}

std::string Inspector::latex() const {
  std::vector<NodeId> shown = d_.grads;
  shown.insert(shown.end(), d_.assigns.begin(), d_.assigns.end());
  return viz::format_explain(viz::explain_lines(d_.graph, shown, d_.notation, viz::Style::latex),
                             viz::Style::latex);
}

std::string Inspector::text() const {
  std::vector<NodeId> shown = d_.grads;
  shown.insert(shown.end(), d_.assigns.begin(), d_.assigns.end());
  return viz::format_explain(viz::explain_lines(d_.graph, shown, d_.notation));
}

void Inspector::evaluate(const models::Model& model,
                         const std::vector<std::pair<Expr, runtime::Tensor>>& data,
                         std::span<const std::int64_t> batch, std::uint64_t key) {
  if (key_ && *key_ == key) return;
  key_.reset();
  for (std::size_t k = 0; k < bound_.size(); ++k) {
    const runtime::Tensor& v = model.value(d_.graph.node(bound_[k].first).name);
    std::memcpy(bound_[k].second.raw(), v.raw(), bytes_of(v));
    std::memcpy(before_[k].second.raw(), v.raw(), bytes_of(v));
  }
  epoch_.set(0, static_cast<double>(model.epochs));
  batch_.clear();
  batch_.reserve(data.size());
  for (const auto& [e, all] : data) {
    if (e.id >= index_of_.size() || !index_of_[e.id]) continue;
    if (batch.empty()) {
      exec_->bind(e.id, all);
      m_ = all.shape().cols;
      continue;
    }
    const std::int64_t rows = all.shape().rows, cols = all.shape().cols;
    const auto b = static_cast<std::int64_t>(batch.size());
    runtime::Tensor t(all.dtype(), Shape{rows, b});
    if (all.dtype() == DType::f32) train::gather_columns(all.data<float>(), rows, cols, batch, t.data<float>());
    else train::gather_columns(all.data<double>(), rows, cols, batch, t.data<double>());
    batch_.emplace_back(e.id, std::move(t));
    exec_->bind(e.id, std::as_const(batch_.back().second));
    m_ = b;
  }
  // Every value is kept (no buffer shared): refuse a plan whose values would
  // take more than max_bytes rather than exhaust the memory.
  std::int64_t elements = 0;
  for (const NodeInfo& n : nodes_) {
    const Shape sh = d_.graph.node(n.id).shape;
    elements += sh.rows * (sh.cols == m_dim ? m_ : sh.cols);
  }
  const auto bytes = static_cast<std::uint64_t>(elements) * dtype_size(d_.graph.dtype());
  if (bytes > max_bytes)
    throw InputError(fmt::format("node values: the derivation's {} values on a batch of {} take {} MiB, "
                                 "more than the {} MiB allowed; use a smaller batch or net",
                                 nodes_.size(), m_, bytes >> 20, max_bytes >> 20));
  exec_->run({.training = true, .step = static_cast<std::uint64_t>(model.steps), .samples = batch});
  key_ = key;
}

ops::Buffer Inspector::buffer(NodeId id) const {
  if (!key_) throw GraphError("inspect: no values yet (evaluate first)");
  for (const auto& [leaf, t] : before_)
    if (leaf == id) return {const_cast<void*>(t.raw()), t.shape()};
  return exec_->value(id);
}

Shape Inspector::shape_of(std::size_t k) const { return buffer(nodes_.at(k).id).shape; }

double Inspector::element(std::size_t k, std::int64_t i, std::int64_t j) const {
  const ops::Buffer b = buffer(nodes_.at(k).id);
  return at(b, d_.graph.dtype(), i * b.shape.cols + j);
}

NodeValue Inspector::value(std::size_t k, std::int64_t rows, std::int64_t cols) const {
  const ops::Buffer b = buffer(nodes_.at(k).id);
  const DType dt = d_.graph.dtype();
  NodeValue v;
  v.rows = b.shape.rows;
  v.cols = b.shape.cols;
  v.shown_rows = std::min(rows, v.rows);
  v.shown_cols = std::min(cols, v.cols);
  for (std::int64_t r = 0; r < v.shown_rows; ++r)
    for (std::int64_t c = 0; c < v.shown_cols; ++c) v.data.push_back(at(b, dt, r * v.cols + c));
  const std::int64_t n = b.shape.size();
  if (n > 0) {
    v.min = v.max = at(b, dt, 0);
    for (std::int64_t q = 1; q < n; ++q) {
      const double x = at(b, dt, q);
      v.min = std::min(v.min, x);
      v.max = std::max(v.max, x);
    }
  }
  return v;
}

std::string Inspector::plugged(std::size_t k, std::int64_t i, std::int64_t j) const {
  const NodeInfo& info = nodes_.at(k);
  const Node& n = d_.graph.node(info.id);
  const Shape s = shape_of(k);
  if (i < 0 || j < 0 || i >= s.rows || j >= s.cols)
    throw InputError(fmt::format("row {}, col {} is outside {} ({} x {})", i, j, info.name, s.rows, s.cols));
  const std::string lhs = fmt::format("{}[{},{}]", info.name, i, j);
  const double result = element(k, i, j);
  // Operand q's element at (i, j), broadcast as the op broadcasts it.
  const auto operand = [&](std::size_t q) {
    const std::size_t idx = *index_of_[n.inputs[q]];
    const Shape os = shape_of(idx);
    return element(idx, os.rows == 1 ? 0 : i, os.cols == 1 ? 0 : j);
  };
  const auto scale_value = [&] {
    const Scale sc = n.attrs.scale_factor();
    return sc.value * std::pow(double(std::max<std::int64_t>(m_, 1)), sc.m_pow);
  };
  std::string mid;
  switch (n.op) {
    case OpKind::input:
    case OpKind::param:
    case OpKind::state:
    case OpKind::constant:
      return fmt::format("{} = {}", lhs, num(result));
    case OpKind::add: mid = fmt::format("{} + {}", num(operand(0)), num(operand(1))); break;
    case OpKind::sub: mid = fmt::format("{} - {}", num(operand(0)), num(operand(1))); break;
    case OpKind::mul: mid = fmt::format("{} * {}", num(operand(0)), num(operand(1))); break;
    case OpKind::div: mid = fmt::format("{} / {}", num(operand(0)), num(operand(1))); break;
    case OpKind::pow: mid = fmt::format("{}^{}", num(operand(0)), num(operand(1))); break;
    case OpKind::neg: mid = fmt::format("-({})", num(operand(0))); break;
    case OpKind::exp:
    case OpKind::log:
    case OpKind::sqrt:
    case OpKind::sigmoid:
    case OpKind::tanh:
    case OpKind::relu:
      mid = fmt::format("{}({})", ops::op_def(n.op).name, num(operand(0)));
      break;
    case OpKind::square: mid = fmt::format("({})^2", num(operand(0))); break;
    case OpKind::leaky_relu: mid = fmt::format("leaky_relu({}, {})", num(operand(0)), num(n.attr<SlopeAttrs>().slope)); break;
    case OpKind::step: mid = fmt::format("step({} > 0)", num(operand(0))); break;
    case OpKind::affine:
      mid = fmt::format("{} * {} + {}", num(scale_value()), num(operand(0)), num(n.attr<AffineAttrs>().offset));
      break;
    case OpKind::broadcast: mid = num(operand(0)); break;
    case OpKind::transpose: {
      const std::size_t idx = *index_of_[n.inputs[0]];
      mid = num(element(idx, j, i));
      break;
    }
    case OpKind::dropout:
      mid = fmt::format("{} * {} / {}", num(operand(0)), num(operand(1)), num(n.attr<DropoutAttrs>().keep_prob));
      break;
    case OpKind::matmul: {
      // scale sum_q op(a)[i,q] op(b)[q,j]
      const std::size_t ia = *index_of_[n.inputs[0]], ib = *index_of_[n.inputs[1]];
      const Shape sa = shape_of(ia);
      const std::int64_t inner = n.attr<MatmulAttrs>().trans_a ? sa.rows : sa.cols;
      std::string terms;
      for (std::int64_t q = 0; q < inner && q < 4; ++q) {
        const double a = n.attr<MatmulAttrs>().trans_a ? element(ia, q, i) : element(ia, i, q);
        const double b = n.attr<MatmulAttrs>().trans_b ? element(ib, j, q) : element(ib, q, j);
        terms += fmt::format("{}{}*{}", q ? " + " : "", num(a), num(b));
      }
      if (inner > 4) terms += fmt::format(" + ... ({} terms)", inner);
      const double sc = scale_value();
      mid = sc == 1.0 ? terms : fmt::format("{} * ({})", num(sc), terms);
      break;
    }
    case OpKind::assign:  // the parameter's new value: W[1][0,1] := 0.05223
      return fmt::format("{}[{},{}] := {}", nodes_[*index_of_[n.inputs[0]]].name, i, j, num(result));
    case OpKind::sum: {
      // scale sum over the columns (axis 1), the rows (axis 0) or every element
      const std::size_t ix = *index_of_[n.inputs[0]];
      const Shape xs = shape_of(ix);
      std::vector<std::pair<std::int64_t, std::int64_t>> cells;
      if (n.attr<SumAttrs>().axis == 1) for (std::int64_t c = 0; c < xs.cols; ++c) cells.emplace_back(i, c);
      else if (n.attr<SumAttrs>().axis == 0) for (std::int64_t r = 0; r < xs.rows; ++r) cells.emplace_back(r, j);
      else for (std::int64_t q = 0; q < xs.size(); ++q) cells.emplace_back(q / xs.cols, q % xs.cols);
      std::string terms;
      for (std::size_t q = 0; q < cells.size() && q < 4; ++q)
        terms += fmt::format("{}{}", q ? " + " : "", num(element(ix, cells[q].first, cells[q].second)));
      if (cells.size() > 4) terms += fmt::format(" + ... ({} terms)", cells.size());
      const double sc = scale_value();
      mid = sc == 1.0 ? terms : fmt::format("{} * ({})", num(sc), terms);
      break;
    }
    default: {
      std::string args;
      for (std::size_t q = 0; q < n.inputs.size() && q < 3; ++q)
        args += (q ? ", " : "") + nodes_[*index_of_[n.inputs[q]]].name;
      mid = fmt::format("{}({})", ops::op_def(n.op).name, args);
    }
  }
  return fmt::format("{} = {} = {}", lhs, mid, num(result));
}

}  // namespace dagrad::studio
