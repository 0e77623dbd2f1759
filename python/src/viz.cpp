// What the notes show beside the code: the derived equations (explain), the
// graph as Graphviz text (dot; the package renders it to SVG), and the
// numerical gradient check (gradcheck).
#include <fmt/format.h>

#include <set>

#include "dagrad/autodiff/gradcheck.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/viz/dot.hpp"
#include "dagrad/viz/explain.hpp"
#include "dagrad/viz/notation.hpp"
#include "python/src/bindings.hpp"

namespace dagrad::python {

namespace {

viz::Derivation derivation(const PyModel& pm) {
  const auto lock = lock_model(*pm.holder);
  return viz::derivation_of(pm.model());
}

// (text, latex, [(lhs, rhs, shape), ...])
py::tuple explain(const PyModel& pm) {
  const viz::Derivation d = derivation(pm);
  if (d.grads.empty()) throw InputError("explain: the model has no parameters to differentiate");
  std::vector<NodeId> shown = d.grads;
  shown.insert(shown.end(), d.assigns.begin(), d.assigns.end());
  const auto text_lines = viz::explain_lines(d.graph, shown, d.notation, viz::Style::text);
  const auto latex_lines = viz::explain_lines(d.graph, shown, d.notation, viz::Style::latex);
  py::list lines;
  for (const viz::ExplainLine& l : text_lines) lines.append(py::make_tuple(l.lhs, l.rhs, l.shape));
  return py::make_tuple(viz::format_explain(text_lines, viz::Style::text),
                        viz::format_explain(latex_lines, viz::Style::latex), lines);
}

std::string dot_source(const PyModel& pm, bool forward_only, bool collapse, int layer, bool show_dead, bool legend,
                       const std::string& rankdir) {
  const viz::Derivation d = derivation(pm);
  viz::DotOptions o;
  o.forward_only = forward_only;
  o.collapse = collapse;
  o.layer = layer;
  o.show_dead = show_dead;
  o.legend = legend;
  o.rankdir = rankdir;
  o.notation = d.notation;
  std::vector<NodeId> outputs = d.outputs();
  if (forward_only) {
    outputs = {d.J};
    if (d.prediction) outputs.push_back(*d.prediction);
  }
  return viz::to_dot(d.graph, outputs, d.updates, o);
}

py::dict report(const autodiff::CheckReport& r) {
  py::list params;
  for (const autodiff::ParamCheck& p : r.params) {
    py::dict e;
    e["name"] = p.name;
    e["checked"] = p.checked;
    e["kinks"] = p.kinks;
    e["rel_diff"] = p.rel_diff;
    e["passed"] = p.pass;
    e["grad"] = from_io_matrix(p.grad);
    params.append(e);
  }
  py::dict d;
  d["passed"] = r.pass;
  d["rel_diff"] = r.rel_diff;
  d["kinks"] = r.kinks;
  d["full"] = r.full;
  d["params"] = params;
  return d;
}

autodiff::CheckOptions check_options(double eps, double threshold, std::int64_t samples, bool full,
                                     std::uint64_t seed) {
  if (!(eps > 0)) throw py::value_error(fmt::format("gradcheck: eps {} must be positive", eps));
  if (samples < 1) throw py::value_error(fmt::format("gradcheck: samples {} must be at least 1", samples));
  autodiff::CheckOptions o;
  o.eps = eps;
  o.threshold = threshold;
  o.samples = samples;
  o.full = full;
  o.seed = seed;
  return o;
}

// The feeds: the given arrays, then the model's values for every other leaf.
autodiff::Feeds feeds_of(const HolderPtr& h, const py::dict& given) {
  autodiff::Feeds feeds;
  std::set<std::string> named;
  for (auto [k, v] : given) {
    const auto name = py::str(k).cast<std::string>();
    feeds.emplace_back(name, to_io_matrix(v, fmt::format("feed '{}'", name)));
    named.insert(name);
  }
  for (const std::string& n : h->model.value_names())
    if (!named.count(n)) feeds.emplace_back(n, h->model.value(n).to_matrix());
  return feeds;
}

}  // namespace

void bind_viz(py::module_& m) {
  m.def("_explain", &explain, py::arg("model"));
  m.def("_dot", &dot_source, py::arg("model"), py::kw_only(), py::arg("forward_only") = false,
        py::arg("collapse") = false, py::arg("layer") = 0, py::arg("show_dead") = false, py::arg("legend") = true,
        py::arg("rankdir") = "TB");
  m.def("_gradcheck_model", [](PyModel& pm, const py::object& X, const py::object& Y, double eps, double threshold,
                               std::int64_t samples, bool full, std::uint64_t seed) {
    const autodiff::CheckOptions o = check_options(eps, threshold, samples, full, seed);
    py::dict given;
    given["X"] = X;
    if (!Y.is_none()) given["Y"] = Y;
    {
      const auto lock = lock_model(*pm.holder);
      for (Expr p : pm.model().params())
        if (!pm.model().has_value(p.name())) {
          pm.model().init_params(pm.model().seed);
          pm.holder->changed();
          break;
        }
    }
    const auto lock = lock_model(*pm.holder);
    const models::Model& mo = pm.model();
    autodiff::Feeds feeds;
    {
      // X and Y by the model's own feature and label inputs.
      feeds.emplace_back(mo.features().name(), to_io_matrix(X, "gradcheck X"));
      if (!Y.is_none()) {
        if (!mo.labels().valid()) throw py::value_error("gradcheck: the model has no labels input for Y");
        feeds.emplace_back(mo.labels().name(), to_io_matrix(Y, "gradcheck Y"));
      }
      for (const std::string& n : mo.value_names()) feeds.emplace_back(n, mo.value(n).to_matrix());
    }
    std::vector<NodeId> params;
    for (Expr p : mo.params()) params.push_back(p.id);
    const NodeId J = mo.cost().id;
    autodiff::CheckReport r;
    {
      py::gil_scoped_release release;
      r = autodiff::gradcheck(mo.graph(), J, params, feeds, o);
    }
    return report(r);
  }, py::arg("model"), py::arg("X"), py::arg("Y") = py::none(), py::kw_only(), py::arg("eps") = 1e-7,
        py::arg("threshold") = 1e-7, py::arg("samples") = 20, py::arg("full") = false, py::arg("seed") = 1);
  m.def("_gradcheck_graph", [](const PyExpr& J, const std::vector<PyExpr>& wrt, const py::dict& feeds_given,
                               double eps, double threshold, std::int64_t samples, bool full, std::uint64_t seed) {
    const autodiff::CheckOptions o = check_options(eps, threshold, samples, full, seed);
    std::vector<NodeId> params;
    for (const PyExpr& w : wrt) {
      if (w.holder != J.holder) throw py::value_error("gradcheck: a parameter belongs to another graph than J");
      params.push_back(w.id);
    }
    const auto lock = lock_model(*J.holder);
    const autodiff::Feeds feeds = feeds_of(J.holder, feeds_given);
    autodiff::CheckReport r;
    {
      py::gil_scoped_release release;
      r = autodiff::gradcheck(J.holder->model.graph(), J.id, params, feeds, o);
    }
    return report(r);
  });
}

}  // namespace dagrad::python
