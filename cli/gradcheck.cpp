// dagrad gradcheck: the notes' gradient check (C2W1) from the command line.
//
//   dagrad gradcheck --layers 5,4,3,1 --hidden relu --l2 0.7 --keep-prob 0.8 --m 10
//   dagrad gradcheck --graph model.json [--cost J] [--data D.npz] [--params P.npz]
//
// Central differences in float64 against the derived gradients, per parameter
// and overall; exit 0 when every difference is below --threshold, 1 when one
// is not, 2 for a usage or input error.
#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "dagrad/autodiff/gradcheck.hpp"
#include "dagrad/autodiff/gradients.hpp"
#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/model_spec.hpp"
#include "cli/outputs.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/models/init.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/ops/op.hpp"

namespace dagrad::cli {

namespace {

struct GradcheckOptions {
  SpecOptions spec;
  std::string graph, model, cost = "J", data, params, dump;
  std::int64_t m = 10;
  autodiff::CheckOptions check;
  bool per_node = false;
};

// What is checked: a graph, its cost, its parameters, the gradient nodes to
// check (empty: derive them) and the leaf values.
struct Problem {
  Graph g;
  NodeId J = 0;
  std::vector<NodeId> params, grads;
  autodiff::Feeds feeds;
  std::string what;  // first line of the report
  io::NamedMatrices values;  // a model file's parameters (used unless --params)
};

io::Matrix randn_matrix(Shape s, std::uint64_t seed, std::uint64_t stream, double scale) {
  io::Matrix out(s);
  models::fill_randn(out.values, seed, stream);
  for (double& v : out.values) v *= scale;
  return out;
}

// Random labels of the kind the cost that reads them accepts: 0/1 for the
// binary cross-entropy, one-hot columns for the categorical one.
io::Matrix random_labels(const Graph& g, NodeId y, Shape s, std::uint64_t seed) {
  io::Matrix out = randn_matrix(s, seed, 0xDA7A + 1, 1.0);
  for (NodeId c : g.consumers(y)) {
    const OpKind op = g.node(c).op;
    if (op == OpKind::bce || op == OpKind::bce_logits) {
      for (double& v : out.values) v = v > 0.0 ? 1.0 : 0.0;
      return out;
    }
    if (op == OpKind::softmax_ce || op == OpKind::categorical_ce) {
      io::Matrix hot(s);
      for (std::int64_t j = 0; j < s.cols; ++j) {
        std::int64_t best = 0;
        for (std::int64_t k = 1; k < s.rows; ++k)
          if (out(k, j) > out(best, j)) best = k;
        hot(best, j) = 1.0;
      }
      return hot;
    }
  }
  return out;
}

// Class labels 0..K-1 (1 x m) as the one-hot (K x m) a softmax output needs.
io::Matrix one_hot_labels(const io::Matrix& labels, std::int64_t K, std::string_view origin) {
  io::Matrix out({K, labels.cols()});
  for (std::int64_t j = 0; j < labels.cols(); ++j) {
    const double v = labels(0, j);
    if (!(v >= 0 && v < static_cast<double>(K) && v == std::floor(v)))
      throw InputError(
          fmt::format("{}: label {} of sample {} is not a class in 0..{}", origin, v, j, K - 1));
    out(static_cast<std::int64_t>(v), j) = 1.0;
  }
  return out;
}

// X and Y from --data, or random samples from --seed; a shape with the
// sample count m gets the data's m, or --m.
void feed_inputs(Problem& p, const GradcheckOptions& o, const std::optional<io::Dataset>& data) {
  const std::int64_t m = data ? data->samples() : o.m;
  for (NodeId id = 0; id < p.g.size(); ++id) {
    const Node& n = p.g.node(id);
    if (n.op != OpKind::input) continue;
    const Shape want = n.shape.at(m);
    io::Matrix v;
    if (data && (n.name == "X" || n.name == "Y")) {
      v = n.name == "X" ? data->X : data->Y;
      if (n.name == "Y" && v.rows() == 1 && want.rows > 1)
        v = one_hot_labels(v, want.rows, data->origin);
      if (v.shape != want)
        throw InputError(fmt::format("{}: {} is {} but the model needs {}", data->origin, n.name,
                                     to_string(v.shape), to_string(want)));
    } else {
      v = n.name == "X" ? randn_matrix(want, o.spec.seed, 0xDA7A, 1.0)
                        : random_labels(p.g, id, want, o.spec.seed);
    }
    p.feeds.emplace_back(n.name, std::move(v));
  }
}

// W, b from --params, else He-scaled normals for matrices and zeros for
// columns (biases), so that relus start alive.
void feed_params(Problem& p, const GradcheckOptions& o) {
  std::vector<std::pair<std::string, Shape>> expected;
  for (NodeId id : p.params) expected.emplace_back(p.g.node(id).name, p.g.node(id).shape);
  if (o.params.empty() && !p.values.empty()) {  // a model file's own parameters
    for (auto& nm : p.values) p.feeds.push_back(std::move(nm));
    return;
  }
  if (!o.params.empty()) {
    io::NamedMatrices loaded = io::load_params(o.params);
    io::check_params_against(loaded, expected, o.params);
    for (auto& [name, m] : loaded) p.feeds.emplace_back(name, std::move(m));
    return;
  }
  for (std::size_t k = 0; k < expected.size(); ++k) {
    const auto& [name, s] = expected[k];
    const double scale = s.cols > 1 ? std::sqrt(2.0 / static_cast<double>(s.cols)) : 0.0;
    p.feeds.emplace_back(name, randn_matrix(s, o.spec.seed, k + 1, scale));
  }
}

Problem from_spec(const GradcheckOptions& o, const std::optional<io::Dataset>& data) {
  const models::ModelSpec spec = to_model_spec(o.spec);
  const std::int64_t m = data ? data->samples() : o.m;
  if (data && data->X.rows() != spec.layers[0])
    throw InputError(fmt::format("{}: X has {} features but --layers starts with {}", data->origin,
                                 data->X.rows(), spec.layers[0]));
  Problem p{Graph(to_dtype(o.spec)), {}, {}, {}, {}, {}, {}};
  const models::Mlp model = models::build_mlp(p.g, spec, m);
  p.J = model.J.id;
  for (Expr w : model.params()) p.params.push_back(w.id);
  for (Expr d : gradients(model.J, model.params())) p.grads.push_back(d.id);
  p.what =
      fmt::format("{} network {}, {} hidden, l2 {}, keep_prob {}, {}", models::name_of(spec.output),
                  fmt::join(spec.layers, ","), models::name_of(spec.hidden), spec.l2,
                  spec.keep_prob.empty() ? "1" : fmt::format("{}", fmt::join(spec.keep_prob, ",")),
                  o.spec.dtype);
  return p;
}

// The file's own backward nodes d<param> when it has one for every parameter.
std::vector<NodeId> saved_gradients(const Graph& g, std::span<const NodeId> params) {
  std::vector<NodeId> out;
  for (NodeId p : params) {
    auto d = g.find("d" + g.node(p).name);
    if (!d || g.node(*d).role != Role::backward || g.node(*d).shape != g.node(p).shape) return {};
    out.push_back(*d);
  }
  return out;
}

// The fused ops (matmul_bias, step_mul, ...) are made by passes::optimize
// for the executor and have no gradient rules: a graph file that names one
// would give a false gradient failure, so it is refused as input.
void refuse_fused_ops(const Graph& g, const std::string& origin) {
  constexpr OpKind fused[] = {OpKind::matmul_bias, OpKind::step_mul, OpKind::tanh_grad_mul,
                              OpKind::sigmoid_grad_mul};
  for (NodeId id = 0; id < g.size(); ++id)
    if (std::find(std::begin(fused), std::end(fused), g.node(id).op) != std::end(fused))
      throw InputError(fmt::format("{}: node {} ({}) uses op '{}', which only the optimizer makes and which has "
                                   "no gradient rule; save the graph before passes::optimize",
                                   origin, id, g.node(id).name, ops::op_def(g.node(id).op).name));
}

Problem from_file(const GradcheckOptions& o) {
  Problem p{load(o.graph), {}, {}, {}, {}, {}, {}};
  refuse_fused_ops(p.g, o.graph);
  auto J = p.g.find(o.cost);
  if (!J)
    throw InputError(
        fmt::format("{}: no node named '{}' (name the cost with --cost)", o.graph, o.cost));
  p.J = *J;
  for (NodeId id = 0; id < p.g.size(); ++id)
    if (p.g.node(id).op == OpKind::param) p.params.push_back(id);
  if (p.params.empty()) throw InputError(fmt::format("{}: the graph has no parameters", o.graph));
  p.grads = saved_gradients(p.g, p.params);
  p.what = fmt::format("{} ({} nodes, {}), cost {}; gradients: {}", o.graph, p.g.size(),
                       dtype_name(p.g.dtype()), o.cost,
                       p.grads.empty() ? "derived now" : "the file's backward nodes");
  return p;
}

Problem from_model(const GradcheckOptions& o) {
  const models::Model m = models::load_model(o.model);
  Problem p{Graph(m.graph()), m.cost().id, {}, {}, {}, {}, {}};
  for (Expr w : m.params()) {
    p.params.push_back(w.id);
    if (m.has_value(w.name())) p.values.emplace_back(w.name(), m.value(w.name()).to_matrix());
  }
  if (m.minimized())
    for (Expr d : m.updates().grads) p.grads.push_back(d.id);
  p.what = fmt::format("{} ({} nodes, {}), cost {}; gradients: {}", o.model, p.g.size(),
                       dtype_name(p.g.dtype()), m.cost().name(),
                       p.grads.empty() ? "derived now" : "the model's backward nodes");
  return p;
}

void print_report(const Problem& p, const autodiff::CheckReport& r, const GradcheckOptions& o) {
  fmt::print("{:<8} {:<12} {:>9} {:>6} {:>12}  result\n", "param", "shape", "checked", "kinks",
             "rel.diff");
  for (const auto& pc : r.params)
    fmt::print("{:<8} {:<12} {:>9} {:>6} {:>12.3e}  {}\n", pc.name, to_string(pc.shape),
               fmt::format("{}/{}", pc.checked + pc.kinks, pc.shape.size()), pc.kinks, pc.rel_diff,
               pc.pass ? "PASS" : "FAIL");
  fmt::print(
      "overall: relative difference {:.3e} over {} parameters ({} kinks skipped); "
      "threshold {:g}: {}\n",
      r.rel_diff, p.params.size(), r.kinks, o.check.threshold, r.pass ? "PASS" : "FAIL");
}

bool run_per_node(const Problem& p, const GradcheckOptions& o) {
  const autodiff::NodeReport r = autodiff::check_rules(p.g, p.J, p.params, p.feeds, o.check);
  fmt::print(
      "per-node rule check: <r, J_f^T u> against central differences of "
      "<u, f(x + eps r)>, eps {:g}:\n",
      o.check.node_eps);
  for (const auto& n : r.nodes)
    fmt::print("  {:<32} {:>12.3e}  {}{}\n", n.node, n.rel_diff, n.pass ? "PASS" : "FAIL",
               n.kinks ? fmt::format(" ({} kink elements skipped)", n.kinks) : "");
  if (r.first_failure)
    fmt::print("first wrong rule: {}\n", r.nodes[*r.first_failure].node);
  else
    fmt::print("all {} local rules agree\n", r.nodes.size());
  return r.pass();
}

void check_options(const GradcheckOptions& o) {
  if (!o.graph.empty() + !o.model.empty() + !o.spec.layers.empty() != 1)
    throw InputError("gradcheck: give one of --layers (a model spec), --graph FILE or --model FILE");
  if (!(o.check.eps > 0.0)) throw InputError(fmt::format("--eps {} must be positive", o.check.eps));
  if (!(o.check.node_eps > 0.0))
    throw InputError(fmt::format("--node-eps {} must be positive", o.check.node_eps));
  if (!(o.check.threshold > 0.0))
    throw InputError(fmt::format("--threshold {} must be positive", o.check.threshold));
  if (o.check.samples < 1)
    throw InputError(fmt::format("--samples {} must be at least 1", o.check.samples));
  if (o.m < 1) throw InputError(fmt::format("--m {} must be at least 1", o.m));
}

int run_gradcheck(GradcheckOptions& o) {
  check_options(o);
  apply_threads(o.spec);
  OutputSet().input("--graph", o.graph).input("--model", o.model).input("--data", o.data)
      .input("--params", o.params)
      .output("--dump", o.dump).check();
  o.check.seed = o.spec.seed;
  std::optional<io::Dataset> data;
  if (!o.data.empty()) data = io::load_dataset(o.data);
  if (data)
    for (const std::string& note : data->notes) print_note(note);  // a header taken, as train says it
  Problem p = !o.model.empty() ? from_model(o) : o.graph.empty() ? from_spec(o, data) : from_file(o);
  feed_inputs(p, o, data);
  feed_params(p, o);
  fmt::print("gradcheck: {}\n", p.what);
  fmt::print("data: {}; eps {:g}, threshold {:g}, float64; coordinates: {}\n",
             data ? fmt::format("{} ({} samples)", data->origin, data->samples())
                  : fmt::format("random (seed {})", o.spec.seed),
             o.check.eps, o.check.threshold,
             o.check.full ? std::string("every coordinate (--full)")
                          : fmt::format("{} sampled per parameter (seed {}; --full checks all)",
                                        o.check.samples, o.check.seed));
  const autodiff::CheckReport r =
      autodiff::gradcheck(p.g, p.J, p.params, p.feeds, o.check, p.grads);
  print_report(p, r, o);
  bool pass = r.pass;
  if (o.per_node) pass = run_per_node(p, o) && pass;
  if (!o.dump.empty()) {
    io::NamedMatrices grads;
    for (const auto& pc : r.params) grads.emplace_back("d" + pc.name, pc.grad);
    io::save_params(o.dump, grads, DType::f64);
    fmt::print("analytic gradients written to {}\n", o.dump);
  }
  return pass ? 0 : 1;
}

}  // namespace

void add_gradcheck(CLI::App& app, Commands& out) {
  auto o = std::make_shared<GradcheckOptions>();
  CLI::App* cmd =
      app.add_subcommand("gradcheck", "check derived gradients against central differences");
  add_spec_options(cmd, o->spec, false);
  cmd->add_option("--graph", o->graph, "a graph file (dagrad save) instead of a model spec");
  cmd->add_option("--model", o->model, "a saved model (FILE.dagrad), with its parameters");
  cmd->add_option("--cost", o->cost, "with --graph: the name of the cost node");
  cmd->add_option("--data", o->data, "data set (.h5, .npz, .csv); default: random samples");
  cmd->add_option("--m", o->m, "number of random samples when no --data is given");
  cmd->add_option("--params", o->params,
                  "parameters W1, b1, ... (.npz); default: He init from --seed");
  cmd->add_option("--dump", o->dump, "write the analytic gradients dW1, db1, ... to this .npz");
  cmd->add_option("--eps", o->check.eps, "central-difference step");
  cmd->add_option("--node-eps", o->check.node_eps, "step of the --per-node check");
  cmd->add_option("--threshold", o->check.threshold, "largest passing relative difference");
  cmd->add_option("--samples", o->check.samples, "coordinates checked per parameter");
  cmd->add_flag("--full", o->check.full, "check every coordinate");
  cmd->add_flag("--per-node", o->per_node, "also check each op's rule with a random projection");
  cmd->add_option("--step", o->check.step, "dropout step (masks are frozen at this step)");
  out.push_back(Command{cmd, [o] { return run_gradcheck(*o); }});
}

}  // namespace dagrad::cli
