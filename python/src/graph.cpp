// The graph and the DSL from Python: Graph, Expr with the notes' operators
// (@ the matrix product, + - * / element-wise with broadcasting, * / with a
// number scales), the ops as functions, gradients, and run().
#include <fmt/format.h>

#include <map>
#include <vector>

#include "dagrad/autodiff/gradients.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/op.hpp"
#include "dagrad/runtime/executor.hpp"
#include "python/src/bindings.hpp"

namespace dagrad::python {

namespace {

// A Python Graph: the graph of a model (Model.graph) or of its own.
struct PyGraph {
  HolderPtr holder;
};

PyExpr wrap(const HolderPtr& h, Expr e) { return PyExpr{h, e.id}; }

// The model's lock for a short read or change of its graph from Python:
// taken with the GIL held when free, else waited for without it.
std::unique_lock<std::recursive_mutex> graph_lock(Holder& h) {
  std::unique_lock lock(h.mutex, std::try_to_lock);
  if (!lock.owns_lock()) lock = lock_model(h);
  return lock;
}

// Adds nodes under the lock: a graph is never changed while fit, run or
// predict (the GIL released) reads it on another thread.
template <class F>
PyExpr build(const HolderPtr& h, F&& add) {
  const auto lock = graph_lock(*h);
  return PyExpr{h, add().id};
}

Shape to_shape(const py::object& obj, std::string_view what) {
  std::vector<std::int64_t> dims;
  try {
    for (py::handle d : py::iter(obj)) {
      if (py::isinstance<py::str>(d) && d.cast<std::string>() == "m") dims.push_back(m_dim);
      else dims.push_back(d.cast<std::int64_t>());
    }
  } catch (py::cast_error&) {
    throw py::type_error(fmt::format("{}: the shape must be a tuple of ints (rows, cols), m or 'm' for the "
                                     "sample count; got {}", what, py::repr(obj).cast<std::string>()));
  } catch (py::error_already_set&) {
    throw py::type_error(fmt::format("{}: the shape must be a tuple of ints (rows, cols), m or 'm' for the "
                                     "sample count; got {}", what, py::repr(obj).cast<std::string>()));
  }
  if (dims.size() != 2)
    throw py::value_error(fmt::format("{}: a shape has 2 dimensions (rows, cols); got {}", what,
                                      py::repr(obj).cast<std::string>()));
  for (std::int64_t d : dims)
    if (d < 1 && d != m_dim)
      throw py::value_error(fmt::format("{}: dimension {} is not positive (m, -1, is the sample count)", what, d));
  return Shape{dims[0], dims[1]};
}

py::tuple from_shape(Shape s) {
  auto dim = [](std::int64_t d) -> py::object { return py::int_(d); };
  return py::make_tuple(dim(s.rows), dim(s.cols));
}

std::string describe(const PyExpr& e) {
  const auto lock = graph_lock(*e.holder);
  return e.holder->model.graph().describe(e.id);
}

const HolderPtr& same_graph(const PyExpr& a, const PyExpr& b, std::string_view op) {
  if (a.holder != b.holder)
    throw py::value_error(fmt::format("{}: the operands {} and {} belong to different graphs", op, describe(a),
                                      describe(b)));
  return a.holder;
}

// A binary operator between an Expr and an Expr or a number.
template <class WithExpr, class WithNumber>
PyExpr binary(const PyExpr& a, const py::object& b, std::string_view op, WithExpr with_expr,
              WithNumber with_number) {
  if (py::isinstance<PyExpr>(b)) {
    const auto& e = b.cast<const PyExpr&>();
    return build(same_graph(a, e, op), [&] { return with_expr(a.expr(), e.expr()); });
  }
  if (py::isinstance<py::float_>(b) || py::isinstance<py::int_>(b) ||
      (py::hasattr(b, "__float__") && !py::isinstance<py::array>(b)))
    return build(a.holder, [&] { return with_number(a.expr(), b.cast<double>()); });
  throw py::type_error(fmt::format("{}: {} with a {}; the other operand must be an Expr of the same graph or a "
                                   "number (make an array a graph input: graph.input(name, shape))",
                                   op, describe(a), type_name(b)));
}

PyExpr number_expr(const PyExpr& like, double v) {
  return build(like.holder, [&] { return like.holder->model.graph().constant(v, {1, 1}); });
}

std::vector<PyExpr> expr_list(const py::object& obj, std::string_view what) {
  if (py::isinstance<PyExpr>(obj)) return {obj.cast<PyExpr>()};
  std::vector<PyExpr> out;
  try {
    for (py::handle h : py::iter(obj)) out.push_back(h.cast<PyExpr>());
  } catch (py::cast_error&) {
    throw py::type_error(fmt::format("{}: expected an Expr or a list of Exprs", what));
  } catch (py::error_already_set&) {
    throw py::type_error(fmt::format("{}: expected an Expr or a list of Exprs, got {}", what, type_name(obj)));
  }
  if (out.empty()) throw py::value_error(fmt::format("{}: the list is empty", what));
  for (const PyExpr& e : out) same_graph(out.front(), e, what);
  return out;
}

// Runs `outputs` with `feeds` (name -> array) and the model's values for
// every other leaf. An array of the graph's dtype, C-contiguous, is bound
// where it lies; the results are copied out (the plan's arena dies here).
py::object run(const py::object& outputs, const py::dict& feeds, bool training, std::uint64_t step) {
  const bool one = py::isinstance<PyExpr>(outputs);
  const std::vector<PyExpr> outs = expr_list(outputs, "run");
  const HolderPtr h = outs.front().holder;
  std::vector<NodeId> ids;
  for (const PyExpr& e : outs) ids.push_back(e.id);
  std::map<std::string, ArrayView, std::less<>> views;
  std::vector<py::array> results;
  {
    const auto lock = lock_model(*h);
    Graph& g = h->model.graph();
    for (auto [k, v] : feeds) {
      const auto name = py::str(k).cast<std::string>();
      const auto id = g.find(name);
      if (!id) throw py::value_error(fmt::format("feed '{}': the graph has no node of that name", excerpt(name)));
      const OpKind op = g.node(*id).op;
      if (op != OpKind::input && op != OpKind::param && op != OpKind::state)
        throw py::value_error(fmt::format("feed '{}': the node is a {} node, not an input, param or state", name,
                                          ops::op_def(op).name));
      views.emplace(name, as_matrix(v, g.dtype(), fmt::format("feed '{}'", name)));
    }
    runtime::Executor exec(g, ids);
    for (NodeId id : exec.schedule()) {
      const Node& n = g.node(id);
      if (n.op != OpKind::input && n.op != OpKind::param && n.op != OpKind::state) continue;
      if (auto it = views.find(n.name); it != views.end()) {
        if (g.dtype() == DType::f32)
          exec.bind(id, static_cast<const float*>(it->second.data), it->second.shape);
        else
          exec.bind(id, static_cast<const double*>(it->second.data), it->second.shape);
      } else if (h->model.has_value(n.name)) {
        exec.bind(id, static_cast<const runtime::Tensor&>(h->model.value(n.name)));
      } else {
        throw py::value_error(fmt::format("run: {} '{}' {} has no value: give it in feeds", ops::op_def(n.op).name,
                                          n.name, to_string(n.shape)));
      }
    }
    runtime::RunOptions ro;
    ro.training = training;
    ro.step = step;
    {
      py::gil_scoped_release release;
      exec.run(ro);
    }
    for (NodeId id : ids) {
      const ops::Buffer b = exec.value(id);
      py::array a(numpy_dtype(g.dtype()), std::vector<py::ssize_t>{b.shape.rows, b.shape.cols});
      std::memcpy(a.mutable_data(), b.data, static_cast<std::size_t>(b.shape.size()) * dtype_size(g.dtype()));
      results.push_back(a);
    }
  }
  if (one) return results.front();
  return py::cast(results);
}

Expr unary(const PyExpr& x) { return x.expr(); }

}  // namespace

void bind_graph(py::module_& m) {
  m.attr("m") = py::int_(m_dim);

  py::class_<PyExpr>(m, "Expr", R"(A node of a graph: what the ops take and return.

Operators follow the notes: ``W @ X`` is the matrix product, ``+ - * /``
are element-wise with broadcasting ((n,m) with (n,1), (1,m) or (1,1)), and
a number scales or shifts. Every op checks shapes as it is built, so a
dimension error names the line that made it.)")
      .def_property_readonly("shape", [](const PyExpr& e) {
        const auto lock = graph_lock(*e.holder);
        return from_shape(e.expr().shape());
      },
                             "(rows, cols); dagrad.m (-1) stands for the sample count")
      .def_property_readonly("name", [](const PyExpr& e) {
        const auto lock = graph_lock(*e.holder);
        return e.expr().name();
      })
      .def_property_readonly("op", [](const PyExpr& e) {
        const auto lock = graph_lock(*e.holder);
        return std::string(ops::op_def(e.expr().node().op).name);
      })
      .def_property_readonly("id", [](const PyExpr& e) { return e.id; })
      .def_property_readonly("graph", [](const PyExpr& e) { return PyGraph{e.holder}; })
      .def("named", [](const PyExpr& e, std::string name) {
        const auto lock = graph_lock(*e.holder);
        e.expr().named(std::move(name));
        return e;
      },
           py::arg("name"), "Names the node (Z1, A1) and returns it.")
      .def_property_readonly("T", [](const PyExpr& e) { return build(e.holder, [&] { return transpose(e.expr()); }); },
                             "The transpose (folded into the matrix product that reads it).")
      .def("__repr__", [](const PyExpr& e) {
        const std::string d = describe(e);
        const auto lock = graph_lock(*e.holder);
        return fmt::format("<dagrad.Expr {} {}>", d, to_string(e.expr().shape()));
      })
      .def("__matmul__", [](const PyExpr& a, const PyExpr& b) {
        return build(same_graph(a, b, "@"), [&] { return matmul(a.expr(), b.expr()); });
      })
      .def("__add__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "+", [](Expr x, Expr y) { return x + y; }, [](Expr x, double v) { return x + v; });
      })
      .def("__radd__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "+", [](Expr x, Expr y) { return y + x; }, [](Expr x, double v) { return v + x; });
      })
      .def("__sub__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "-", [](Expr x, Expr y) { return x - y; }, [](Expr x, double v) { return x - v; });
      })
      .def("__rsub__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "-", [](Expr x, Expr y) { return y - x; }, [](Expr x, double v) { return v - x; });
      })
      .def("__mul__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "*", [](Expr x, Expr y) { return mul(x, y); }, [](Expr x, double v) { return x * v; });
      })
      .def("__rmul__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "*", [](Expr x, Expr y) { return mul(y, x); }, [](Expr x, double v) { return v * x; });
      })
      .def("__truediv__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "/", [](Expr x, Expr y) { return x / y; }, [](Expr x, double v) { return x / v; });
      })
      .def("__rtruediv__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "/", [](Expr x, Expr y) { return y / x; },
                      [&a](Expr x, double v) { return number_expr(a, v).expr() / x; });
      })
      .def("__pow__", [](const PyExpr& a, const py::object& b) {
        return binary(a, b, "**", [](Expr x, Expr y) { return pow(x, y); },
                      [&a](Expr x, double v) { return pow(x, number_expr(a, v).expr()); });
      })
      .def("__neg__", [](const PyExpr& a) { return build(a.holder, [&] { return -a.expr(); }); })
      .def("__hash__", [](const PyExpr& e) { return py::hash(py::make_tuple(reinterpret_cast<std::uintptr_t>(e.holder.get()), e.id)); })
      .def("__eq__", [](const PyExpr& a, const py::object& b) {
        return py::isinstance<PyExpr>(b) && b.cast<const PyExpr&>().holder == a.holder &&
               b.cast<const PyExpr&>().id == a.id;
      });

  py::class_<PyGraph>(m, "Graph", R"(A graph of ops (use dagrad.Model to train one).

    g = dagrad.Graph()            # dtype 'f64' or 'f32'
    X = g.input("X", (2, dagrad.m))
    W = g.param("W", (4, 2)))")
      .def(py::init([](const py::object& dtype) { return PyGraph{std::make_shared<Holder>(parse_dtype(dtype))}; }),
           py::arg("dtype") = py::none())
      .def_property_readonly("dtype", [](const PyGraph& g) { return std::string(dtype_name(g.holder->model.dtype())); })
      .def("input", [](const PyGraph& g, std::string name, const py::object& shape) {
        return build(g.holder, [&] { return g.holder->model.graph().input(std::move(name), to_shape(shape, "input")); });
      }, py::arg("name"), py::arg("shape"), "An input fed at run time; shape may hold dagrad.m.")
      .def("param", [](const PyGraph& g, std::string name, const py::object& shape) {
        return build(g.holder, [&] { return g.holder->model.graph().param(std::move(name), to_shape(shape, "param")); });
      }, py::arg("name"), py::arg("shape"), "A trained parameter.")
      .def("state", [](const PyGraph& g, std::string name, const py::object& shape) {
        return build(g.holder, [&] { return g.holder->model.graph().state(std::move(name), to_shape(shape, "state")); });
      }, py::arg("name"), py::arg("shape"))
      .def("constant", [](const PyGraph& g, double v, const py::object& shape) {
        return build(g.holder, [&] { return g.holder->model.graph().constant(v, to_shape(shape, "constant")); });
      }, py::arg("value"), py::arg("shape") = py::make_tuple(1, 1))
      .def("__len__", [](const PyGraph& g) { return g.holder->model.graph().size(); })
      .def("__getitem__", [](const PyGraph& g, const std::string& name) {
        const auto id = g.holder->model.graph().find(name);
        if (!id) throw py::key_error(fmt::format("the graph has no node named '{}'", excerpt(name)));
        return PyExpr{g.holder, *id};
      }, py::arg("name"), "The node of that name.")
      .def("run", [](const PyGraph&, const py::object& outputs, const py::dict& feeds, bool training,
                     std::uint64_t step) { return run(outputs, feeds, training, step); },
           py::arg("outputs"), py::arg("feeds") = py::dict(), py::kw_only(), py::arg("training") = false,
           py::arg("step") = 0, "Same as dagrad.run.");

  m.def("run", &run, py::arg("outputs"), py::arg("feeds") = py::dict(), py::kw_only(),
        py::arg("training") = false, py::arg("step") = 0,
        R"(Computes `outputs` (an Expr or a list) and returns numpy arrays.

feeds: {name: array} for inputs (and params to override); a model's own
parameter values are used for the rest. An array of the graph's dtype in C
order is read in place; any other is copied once. training=True runs dropout
with the masks of `step`.)");

  m.def("_matrix_view", [](const py::object& a, const py::object& dtype) {
    const ArrayView v = as_matrix(a, parse_dtype(dtype), "array");
    return py::make_tuple(v.keep, v.copied);
  }, py::arg("array"), py::arg("dtype") = py::none(),
        "(the array dagrad reads for `array` as a feed of `dtype`, whether it is a copy): the array itself "
        "when it is C-ordered of that dtype.");
  m.def("matmul", [](const PyExpr& a, const PyExpr& b, bool ta, bool tb) {
    return build(same_graph(a, b, "matmul"), [&] { return matmul(a.expr(), ta, b.expr(), tb); });
  }, py::arg("a"), py::arg("b"), py::kw_only(), py::arg("trans_a") = false, py::arg("trans_b") = false,
        "op(a) op(b), op(x) = x^T where the flag is set (folded into the GEMM).");
  m.def("mul", [](const PyExpr& a, const PyExpr& b) { return build(same_graph(a, b, "mul"), [&] { return mul(a.expr(), b.expr()); }); },
        "Element-wise product with broadcasting (the same as a * b).");
#define DAGRAD_UNARY(fn, doc) \
  m.def(#fn, [](const PyExpr& x) { return build(x.holder, [&] { return fn(unary(x)); }); }, py::arg("x"), doc)
  DAGRAD_UNARY(sigmoid, "1 / (1 + e^-z)");
  DAGRAD_UNARY(tanh, "tanh(z)");
  DAGRAD_UNARY(relu, "max(0, z)");
  DAGRAD_UNARY(exp, "e^x");
  DAGRAD_UNARY(log, "ln x");
  DAGRAD_UNARY(square, "x^2");
  DAGRAD_UNARY(sqrt, "sqrt(x)");
  DAGRAD_UNARY(softmax, "Column-wise softmax: A(k,i) = e^Z(k,i) / sum_j e^Z(j,i).");
  DAGRAD_UNARY(transpose, "x^T");
#undef DAGRAD_UNARY
  m.def("leaky_relu", [](const PyExpr& x, double slope) { return build(x.holder, [&] { return leaky_relu(x.expr(), slope); }); },
        py::arg("z"), py::arg("slope") = 0.01, "z > 0 ? z : slope z");
  m.def("step", [](const PyExpr& x, double slope) { return build(x.holder, [&] { return step(x.expr(), slope); }); },
        py::arg("z"), py::arg("slope") = 0.0, "The derivative mask of (leaky) relu: z > 0 ? 1 : slope.");
  m.def("sum", [](const PyExpr& x, int axis, bool keepdims) { return build(x.holder, [&] { return sum(x.expr(), axis, keepdims); }); },
        py::arg("x"), py::arg("axis") = -1, py::arg("keepdims") = true,
        "axis -1: all elements (1x1); 0: over rows (1 x m); 1: over columns (n x 1).");
  m.def("mean", [](const PyExpr& x, int axis, bool keepdims) { return build(x.holder, [&] { return mean(x.expr(), axis, keepdims); }); },
        py::arg("x"), py::arg("axis") = -1, py::arg("keepdims") = true, "As sum, divided by the count.");
  m.def("broadcast", [](const PyExpr& x, const py::object& shape) {
    return build(x.holder, [&] { return broadcast(x.expr(), to_shape(shape, "broadcast")); });
  }, py::arg("x"), py::arg("shape"));
  m.def("pow", [](const PyExpr& a, const PyExpr& b) { return build(same_graph(a, b, "pow"), [&] { return pow(a.expr(), b.expr()); }); },
        "a^b element-wise, broadcasting.");
  m.def("binary_cross_entropy", [](const PyExpr& A, const PyExpr& Y) {
    return build(same_graph(A, Y, "binary_cross_entropy"), [&] { return binary_cross_entropy(A.expr(), Y.expr()); });
  }, py::arg("A"), py::arg("Y"), "J = -(1/m) sum(Y log A + (1 - Y) log(1 - A)); stable from Z when A = sigmoid(Z).");
  m.def("categorical_cross_entropy", [](const PyExpr& A, const PyExpr& Y) {
    return build(same_graph(A, Y, "categorical_cross_entropy"), [&] { return categorical_cross_entropy(A.expr(), Y.expr()); });
  }, py::arg("A"), py::arg("Y"), "J = -(1/m) sum(Y log A), Y one-hot (K x m).");
  m.def("mean_squared_error", [](const PyExpr& A, const PyExpr& Y) {
    return build(same_graph(A, Y, "mean_squared_error"), [&] { return mean_squared_error(A.expr(), Y.expr()); });
  }, py::arg("A"), py::arg("Y"), "J = 1/(2m) sum((A - Y)^2).");
  m.def("l2_penalty", [](const py::object& Ws, double lambda) {
    const auto ws = expr_list(Ws, "l2_penalty");
    std::vector<Expr> es;
    for (const PyExpr& w : ws) es.push_back(w.expr());
    return build(ws.front().holder, [&] { return l2_penalty(std::span<const Expr>(es), lambda); });
  }, py::arg("W"), py::arg("lambd"), "lambda/(2m) sum_l ||W[l]||_F^2.");
  m.def("dropout", [](const PyExpr& A, double keep_prob, std::uint64_t seed) {
    return build(A.holder, [&] { return dropout(A.expr(), keep_prob, seed); });
  }, py::arg("A"), py::arg("keep_prob"), py::arg("seed") = 1,
        "Inverted dropout: A * D / keep_prob while training, A in inference.");
  m.def("gradients", [](const PyExpr& J, const py::object& wrt) {
    const auto ws = expr_list(wrt, "gradients");
    for (const PyExpr& w : ws) same_graph(J, w, "gradients");
    std::vector<Expr> es;
    for (const PyExpr& w : ws) es.push_back(w.expr());
    std::vector<std::string> warnings;
    autodiff::GradientOptions o;
    o.warn = [&warnings](const std::string& s) { warnings.push_back(s); };
    std::vector<Expr> gs;
    {
      const auto lock = lock_model(*J.holder);
      gs = autodiff::gradients(J.expr(), std::span<const Expr>(es), o);
    }
    for (const std::string& w : warnings)
      PyErr_WarnEx(PyExc_RuntimeWarning, w.c_str(), 1);
    std::vector<PyExpr> out;
    for (Expr g : gs) out.push_back(wrap(J.holder, g));
    if (py::isinstance<PyExpr>(wrt)) return py::cast(out.front());
    return py::cast(out);
  }, py::arg("J"), py::arg("wrt"),
        "dJ/dw for each w, appended to the graph as backward nodes (named dW1, dZ1, ...).");
}

py::object graph_of(const HolderPtr& h) { return py::cast(PyGraph{h}); }

std::unique_lock<std::recursive_mutex> lock_model(Holder& h) {
  std::unique_lock lock(h.mutex, std::defer_lock);
  if (PyGILState_Check()) {
    py::gil_scoped_release release;
    lock.lock();
  } else {
    lock.lock();
  }
  return lock;
}

}  // namespace dagrad::python
