// J := one training step of a narrow network, in place (ops/fused_net.hpp)
//
// Made only by passes::fuse_nets, after differentiation: no gradient rule.
// The operands the kernel overwrites (the parameters and their moments) come
// first, so OpDef::writes_first says how many per node.
#include "dagrad/ops/fused_net.hpp"

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

std::string_view name_of(NetActivation a) {
  constexpr std::string_view names[] = {"relu", "leaky_relu", "tanh", "sigmoid", "identity"};
  return names[static_cast<int>(a)];
}
bool read_activation(const Node& n, NetActivation& g, double& slope) {
  switch (n.op) {
    case OpKind::relu: g = NetActivation::relu; return true;
    case OpKind::leaky_relu:
      g = NetActivation::leaky_relu;
      slope = n.attr<SlopeAttrs>().slope;
      return true;
    case OpKind::tanh: g = NetActivation::tanh; return true;
    case OpKind::sigmoid: g = NetActivation::sigmoid; return true;
    default: return false;
  }
}
std::string_view name_of(NetCost c) {
  constexpr std::string_view names[] = {"binary cross-entropy", "softmax cross-entropy",
                                        "squared error"};
  return names[static_cast<int>(c)];
}

std::int64_t FusedNet::parameters() const {
  std::int64_t p = 0, prev = inputs;
  for (const NetLayer& l : layers) {
    p += l.units * (prev + 1);
    prev = l.units;
  }
  return p;
}

std::string FusedNet::summary() const {
  std::string s = fmt::format("{}", inputs);
  std::vector<std::string> acts;
  for (const NetLayer& l : layers) {
    s += fmt::format("-{}", l.units);
    if (l.activation == NetActivation::identity) continue;
    std::string a(name_of(l.activation));
    if (l.keep_prob < 1.0) a += fmt::format(" + dropout {:g}", l.keep_prob);
    acts.push_back(std::move(a));
  }
  s += fmt::format(", {}, {}", fmt::join(acts, " / "), name_of(cost));
  if (lambda > 0) s += fmt::format(" + L2 {:g}", lambda);
  return s + fmt::format(", {}", rule->name);
}

std::string FusedNet::replaced_summary() const {
  std::vector<std::size_t> count(std::size_t(op_count), 0);
  std::size_t nodes = 0;
  for (NodeId id : replaced.schedule(replaced_outputs)) {
    const OpKind op = replaced.node(id).op;
    if (id < kept.size() && kept[id]) continue;  // what it reads, not work it replaced
    ++count[std::size_t(op)];
    ++nodes;
  }
  std::vector<std::string> parts;
  for (std::size_t k = 0; k < count.size(); ++k)
    if (count[k] > 0)
      parts.push_back(count[k] == 1 ? std::string(op_def(OpKind(k)).name)
                                    : fmt::format("{} x{}", op_def(OpKind(k)).name, count[k]));
  return fmt::format("{} nodes: {}", nodes, fmt::join(parts, ", "));
}

std::vector<std::string> FusedNet::replaced_lines() const {
  std::vector<std::string> lines;
  for (NodeId id : replaced.schedule(replaced_outputs)) {
    const Node& n = replaced.node(id);
    if (id < kept.size() && kept[id]) continue;
    lines.push_back(fmt::format("{:<18} {:<18} {}", replaced.describe(id), op_def(n.op).name,
                                to_string(n.shape)));
  }
  return lines;
}

namespace {

// Every operand in the shape the program says (its stage's operands,
// ops/fused_net.hpp); the value is J (1x1), or G ((P + 1) x 1) for the
// gradients stage.
Shape fused_net_shape(const ShapeCall& c) {
  const FusedNetAttrs& attrs = c.attrs.get<FusedNetAttrs>();
  const FusedNet* net = attrs.net.get();
  if (!net)
    throw ShapeError("fused_net: the node carries no program (it is made by passes::fuse_nets "
                     "and cannot be read from a graph file)");
  const FusedStage stage = attrs.stage;
  if (c.inputs.size() != net->operand_count(stage))
    throw ShapeError(fmt::format("fused_net {}: {} operands for a program that takes {}",
                                 net->summary(), c.inputs.size(), net->operand_count(stage)));
  std::vector<Shape> want;
  std::int64_t n_prev = net->inputs;
  for (const NetLayer& l : net->layers) {
    want.push_back({l.units, n_prev});
    want.push_back({l.units, 1});
    n_prev = l.units;
  }
  const std::size_t params = want.size();
  if (stage != FusedStage::gradients)
    for (std::size_t p = 0; p < params * std::size_t(net->moments()); ++p)
      want.push_back(want[p / std::size_t(net->moments())]);
  const Shape G{net->parameters() + 1, 1};
  if (stage == FusedStage::update) {
    want.push_back(G);
  } else {
    const Shape X = c.graph.node(c.inputs[net->x_slot(stage)]).shape;
    want.push_back({net->inputs, X.cols});
    want.push_back({n_prev, X.cols});
  }
  while (want.size() < c.inputs.size()) want.push_back({1, 1});
  for (std::size_t k = 0; k < c.inputs.size(); ++k)
    if (c.graph.node(c.inputs[k]).shape != want[k])
      throw ShapeError(fmt::format("fused_net {}: operand {} ({}) is {}, not {}", net->summary(),
                                   k + 1, c.graph.describe(c.inputs[k]),
                                   to_string(c.graph.node(c.inputs[k]).shape), to_string(want[k])));
  return stage == FusedStage::gradients ? G : Shape{1, 1};
}

std::size_t fused_net_writes(const Node& n) {
  const FusedNetAttrs& attrs = n.attr<FusedNetAttrs>();
  return attrs.net ? attrs.net->written(attrs.stage) : 0;
}

}  // namespace

extern const OpDef fused_net_op{OpKind::fused_net,      "fused_net", -1, fused_net_shape,
                                &fused_net_step<float>, &fused_net_step<double>,
                                nullptr,                false,       0, fused_net_writes,
                                0,                      attrs_index<FusedNetAttrs>(),
                                fused_net_workspace};

}  // namespace dagrad::ops
