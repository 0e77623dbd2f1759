// Models from Python: build, fit (the GIL released, a per-epoch callback,
// Ctrl-C stops it), predict, evaluate, the model files, ONNX and the MLP
// builder. Data sets are copied into the trainer's f64 io::Dataset (fit
// shuffles and converts its batches itself); predict reads its input where
// it lies when the array has the model's dtype and is C- or Fortran-ordered.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/models/model_file.hpp"
#include "dagrad/models/onnx.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/params.hpp"
#include "python/src/bindings.hpp"

namespace dagrad::python {

namespace {

// Thrown from fit's hook when a Python exception (KeyboardInterrupt, or one
// the callback raised) is pending: fit unwinds, then the error is raised.
struct PythonErrorPending {};

std::string task_name(models::Task t) {
  switch (t) {
    case models::Task::binary: return "binary";
    case models::Task::categorical: return "categorical";
    case models::Task::regression: return "regression";
  }
  return "?";
}

io::Matrix checked_matrix(py::handle obj, std::string_view what) {
  io::Matrix m = to_io_matrix(obj, what);
  for (std::size_t i = 0; i < m.values.size(); ++i)
    if (!std::isfinite(m.values[i]))
      throw py::value_error(fmt::format("{}: element ({}, {}) is {}", what, i / static_cast<std::size_t>(m.cols()),
                                        i % static_cast<std::size_t>(m.cols()), m.values[i]));
  return m;
}

io::Dataset dataset(const models::Model& model, const py::object& X, const py::object& Y, const py::object& inputs,
                    std::string_view what) {
  io::Dataset d;
  d.origin = std::string(what);
  d.X = checked_matrix(X, fmt::format("{} X", what));
  if (d.X.cols() == 0) throw py::value_error(fmt::format("{} X: no samples (X is n_x x m, one column per sample)", what));
  if (!Y.is_none()) {
    d.Y = checked_matrix(Y, fmt::format("{} Y", what));
    if (d.Y.cols() != d.X.cols())
      throw py::value_error(fmt::format("{}: Y {} has {} samples (columns) but X {} has {}", what, to_string(d.Y.shape),
                                        d.Y.cols(), to_string(d.X.shape), d.X.cols()));
    if (model.task() == models::Task::binary && d.Y.rows() == 1) io::check_binary_labels(d);
  } else {
    d.Y = io::Matrix(Shape{0, d.X.cols()});
  }
  if (!inputs.is_none())
    for (auto [k, v] : inputs.cast<py::dict>()) {
      const auto name = py::str(k).cast<std::string>();
      d.inputs.emplace_back(name, checked_matrix(v, fmt::format("{} input '{}'", what, name)));
    }
  return d;
}

optim::OptimizerConfig optimizer_config(const std::string& name, double lr, double beta1, double beta2,
                                        double epsilon, double decay_rate, double weight_decay) {
  optim::OptimizerConfig c;
  c.kind = optim::parse_optimizer(name);
  c.learning_rate = lr;
  c.beta1 = beta1;
  c.beta2 = beta2;
  c.epsilon = epsilon;
  c.decay_rate = decay_rate;
  c.weight_decay = weight_decay;
  c.validate();
  return c;
}

// Forwards what fit printed (into a memory stream) to Python's sys.stdout,
// so the cost lines show in a notebook. Call with the GIL held.
struct Printed {
  char* buffer = nullptr;
  std::size_t size = 0, sent = 0;
  std::FILE* file = nullptr;
  Printed() { file = open_memstream(&buffer, &size); }
  ~Printed() {
    if (file) std::fclose(file);
    std::free(buffer);
  }
  Printed(const Printed&) = delete;
  Printed& operator=(const Printed&) = delete;
  void forward() {
    if (!file) return;
    std::fflush(file);
    if (size > sent) {
      py::module_::import("sys").attr("stdout").attr("write")(py::str(buffer + sent, size - sent));
      sent = size;
    }
  }
};

py::object fit(PyModel& pm, const py::object& X, const py::object& Y, std::int64_t iterations, std::int64_t epochs,
               std::int64_t batch_size, const std::string& optimizer, double learning_rate, double beta1,
               double beta2, double epsilon, double decay_rate, double weight_decay, bool normalize,
               const py::object& init, const py::object& seed, const py::object& dev, std::int64_t patience,
               std::int64_t print_every, bool check_numerics, const py::object& callback,
               const py::object& inputs) {
  if ((iterations > 0) == (epochs > 0))
    throw py::value_error(fmt::format("fit: give exactly one of iterations and epochs (got iterations={}, epochs={})",
                                      iterations, epochs));
  if (batch_size < 0) throw py::value_error(fmt::format("fit: batch_size {} is negative", batch_size));
  if (!callback.is_none() && !PyCallable_Check(callback.ptr()))
    throw py::type_error(fmt::format("fit: callback must be callable, got {}", type_name(callback)));
  models::Model& model = pm.model();
  const io::Dataset train = dataset(model, X, Y, inputs, "fit");
  std::optional<io::Dataset> dev_set;
  if (!dev.is_none()) {
    const auto t = dev.cast<py::tuple>();
    if (t.size() != 2) throw py::value_error("fit: dev must be a pair (X_dev, Y_dev)");
    dev_set = dataset(model, t[0], t[1], py::none(), "fit dev");
  }
  train::FitOptions o;
  o.iterations = iterations;
  o.epochs = epochs;
  o.batch_size = batch_size;
  o.optimizer = optimizer_config(optimizer, learning_rate, beta1, beta2, epsilon, decay_rate, weight_decay);
  o.normalize = normalize;
  o.patience = patience;
  o.print_every = print_every;
  o.progress = false;
  o.check_numerics = check_numerics;
  Printed printed;
  o.out = print_every > 0 ? printed.file : nullptr;
  // The hook: every update. It takes the GIL only at an epoch's end with a
  // callback, or every 20 ms, to run the callback and check for Ctrl-C.
  using clock = std::chrono::steady_clock;
  auto next_check = clock::now();
  std::int64_t last_epoch = model.epochs;
  HolderPtr holder = pm.holder;
  o.after_step = [&](const models::Model& m) {
    const bool epoch_done = m.epochs != last_epoch;
    last_epoch = m.epochs;
    const auto now = clock::now();
    if (!(epoch_done && !callback.is_none()) && now < next_check) return;
    next_check = now + std::chrono::milliseconds(20);
    py::gil_scoped_acquire gil;
    printed.forward();
    if (PyErr_CheckSignals() != 0) throw PythonErrorPending{};
    if (epoch_done && !callback.is_none()) {
      holder->changed();
      try {
        callback(m.epochs, m.steps);
      } catch (py::error_already_set& e) {
        e.restore();
        throw PythonErrorPending{};
      }
    }
  };
  const std::optional<models::Init> init_kind =
      init.is_none() ? std::nullopt : std::optional(models::parse_init(init.cast<std::string>()));
  const std::optional<std::uint64_t> seed_value =
      seed.is_none() ? std::nullopt : std::optional(seed.cast<std::uint64_t>());
  train::FitResult r;
  bool pending = false;
  {
    py::gil_scoped_release release;
    const auto lock = lock_model(*holder);
    holder->changed();
    if (init_kind) model.set_init(*init_kind);
    if (seed_value) model.seed = *seed_value;
    try {
      r = train::fit(model, train, dev_set ? &*dev_set : nullptr, o);
    } catch (PythonErrorPending&) {
      pending = true;
    }
    holder->changed();
  }
  printed.forward();
  if (pending) throw py::error_already_set();
  return py::cast(std::move(r));
}

py::array predict(PyModel& pm, const py::object& X, const py::object& out) {
  const HolderPtr& h = pm.holder;
  const DType dtype = h->model.dtype();
  const py::dtype want = numpy_dtype(dtype);
  const bool have_out = !out.is_none();
  py::array y;
  if (have_out) {
    if (!py::isinstance<py::array>(out))
      throw py::type_error(fmt::format("predict out: expected a numpy array, got {}", type_name(out)));
    y = py::reinterpret_borrow<py::array>(out);
    if (!is_native(y, dtype))
      throw py::type_error(fmt::format("predict out: dtype {}, the model's is {}", str_of(y.dtype()), dtype_name(dtype)));
    if (!y.writeable()) throw py::value_error("predict out: the array is read-only");
  }
  const bool out_f = have_out && y.ndim() == 2 && (y.flags() & py::array::f_style) && !(y.flags() & py::array::c_style);
  ArrayView v;
  bool one = false;
  serve::Layout layout = serve::Layout::columns;
  std::int64_t n_x = 0, m = 0;
  if (py::isinstance<py::array>(X)) {
    const auto a = py::reinterpret_borrow<py::array>(X);
    if (a.ndim() == 2 && is_native(a, dtype) && (a.flags() & py::array::f_style) &&
        !(a.flags() & py::array::c_style) && (!have_out || out_f)) {
      // X (n_x x m) in Fortran order is X^T (m x n_x) in C order: samples as rows.
      v.keep = a;
      v.data = a.data();
      n_x = a.shape(0);
      m = a.shape(1);
      layout = serve::Layout::rows;
    }
  }
  if (!v.data) {
    v = as_matrix(X, dtype, "predict X");
    if (py::array(v.keep).ndim() == 1 && !have_out) {  // one sample
      one = true;
      n_x = v.shape.cols;
      m = 1;
    } else {
      n_x = v.shape.rows;
      m = v.shape.cols;
    }
    if (out_f) {  // samples as rows, to write into a Fortran-ordered out
      v.keep = numpy_call("asfortranarray", v.keep.reshape({n_x, m}), want);
      v.data = v.keep.data();
      layout = serve::Layout::rows;
    }
  }
  if (m == 0) throw py::value_error("predict X: no samples (X is n_x x m, one column per sample)");
  // Uncontended (the usual case) the lock is taken with the GIL held, which
  // is safe: no thread waits for it holding the GIL (lock_model).
  std::unique_lock lock(h->mutex, std::try_to_lock);
  if (!lock.owns_lock()) lock = lock_model(*h);
  if (!h->predictor) {
    py::gil_scoped_release release;
    h->predictor = std::make_unique<train::Predictor>(h->model);
  }
  const std::int64_t n_in = h->predictor->plan().inputs(), n_out = h->predictor->plan().outputs();
  if (n_x != n_in)
    throw py::value_error(fmt::format("predict X: {} rows (features) but the model takes {} (X is n_x x m, one "
                                      "column per sample)", n_x, n_in));
  if (have_out) {
    const bool ok_layout = layout == serve::Layout::rows ? out_f : bool(y.flags() & py::array::c_style);
    if (y.ndim() != 2 || y.shape(0) != n_out || y.shape(1) != m || !ok_layout)
      throw py::value_error(fmt::format("predict out: needs shape ({}, {}) in C order, or Fortran order", n_out, m));
  } else if (layout == serve::Layout::rows) {
    const auto size = static_cast<py::ssize_t>(want.itemsize());
    y = py::array(want, std::vector<py::ssize_t>{n_out, m}, std::vector<py::ssize_t>{size, size * n_out});
  } else if (one) {
    y = py::array(want, std::vector<py::ssize_t>{n_out});
  } else {
    y = py::array(want, std::vector<py::ssize_t>{n_out, m});
  }
  void* yp = y.mutable_data();
  const auto nx = static_cast<std::size_t>(n_x * m), ny = static_cast<std::size_t>(n_out * m);
  auto call = [&] {
    if (dtype == DType::f32)
      h->predictor->predict(std::span<const float>(static_cast<const float*>(v.data), nx),
                            std::span<float>(static_cast<float*>(yp), ny), layout);
    else
      h->predictor->predict(std::span<const double>(static_cast<const double*>(v.data), nx),
                            std::span<double>(static_cast<double*>(yp), ny), layout);
  };
  // A small call runs with the GIL held: releasing it costs more than the work.
  if (nx + ny < 4096) {
    call();
  } else {
    py::gil_scoped_release release;
    call();
  }
  return y;
}

py::dict evaluate(PyModel& pm, const py::object& X, const py::object& Y, const py::object& inputs) {
  const io::Dataset d = dataset(pm.model(), X, Y, inputs, "evaluate");
  train::Evaluation e;
  {
    py::gil_scoped_release release;
    const auto lock = lock_model(*pm.holder);
    e = train::evaluate(pm.model(), d);
  }
  py::dict r;
  r["cost"] = e.cost;
  r["accuracy"] = e.accuracy;
  r["r2"] = e.r2;
  r["samples"] = e.samples;
  r["task"] = task_name(e.task);
  return r;
}

py::array value_of(PyModel& pm, const std::string& name) {
  const auto lock = lock_model(*pm.holder);
  const runtime::Tensor& t = pm.model().value(name);
  py::array a(numpy_dtype(t.dtype()), std::vector<py::ssize_t>{t.shape().rows, t.shape().cols});
  std::memcpy(a.mutable_data(), t.raw(), static_cast<std::size_t>(t.size()) * dtype_size(t.dtype()));
  return a;
}

void set_value(PyModel& pm, const std::string& name, const py::object& value) {
  io::Matrix m = checked_matrix(value, fmt::format("value '{}'", name));
  const auto lock = lock_model(*pm.holder);
  pm.model().set_value(name, runtime::Tensor::from_matrix(m, pm.model().dtype()));
  pm.holder->changed();
}

void set_params(PyModel& pm, const py::object& params) {
  io::NamedMatrices named;
  std::string origin = "set_params";
  if (py::isinstance<py::str>(params) || py::hasattr(params, "__fspath__")) {
    origin = py::str(py::module_::import("os").attr("fspath")(params)).cast<std::string>();
    py::gil_scoped_release release;
    named = io::load_params(origin);
  } else {
    for (auto [k, v] : params.cast<py::dict>()) {
      const auto name = py::str(k).cast<std::string>();
      named.emplace_back(name, checked_matrix(v, fmt::format("set_params '{}'", name)));
    }
  }
  const auto lock = lock_model(*pm.holder);
  train::set_params(pm.model(), std::move(named), origin);
  pm.holder->changed();
}

std::string fspath(const py::object& p) { return py::str(py::module_::import("os").attr("fspath")(p)).cast<std::string>(); }

PyModel wrap_model(models::Model m) { return PyModel{std::make_shared<Holder>(std::move(m))}; }

py::object expr_of(const PyModel& pm, Expr e) { return py::cast(PyExpr{pm.holder, e.id}); }

NodeId node_of(const PyModel& pm, const PyExpr& e, std::string_view what) {
  if (e.holder != pm.holder) throw py::value_error(fmt::format("{}: the Expr belongs to another graph", what));
  return e.id;
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<train::FitResult>(m, "FitResult", "What fit did: the costs and why it stopped, if it did.")
      .def_property_readonly("costs", [](const train::FitResult& r) { return py::array(py::cast(r.costs)); },
                             "costs[i]: J of this call's update i, before it")
      .def_property_readonly("epoch_costs", [](const train::FitResult& r) { return py::array(py::cast(r.epoch_costs)); },
                             "per epoch: the sample-weighted mean of the batch costs")
      .def_property_readonly("dev_costs", [](const train::FitResult& r) { return py::array(py::cast(r.dev_costs)); })
      .def_readonly("first_iteration", &train::FitResult::first_iteration)
      .def_readonly("iterations", &train::FitResult::iterations)
      .def_readonly("diverged", &train::FitResult::diverged)
      .def_readonly("early_stopped", &train::FitResult::early_stopped)
      .def_readonly("plateau", &train::FitResult::plateau)
      .def_readonly("best_dev_cost", &train::FitResult::best_dev_cost)
      .def_readonly("message", &train::FitResult::message)
      .def("__repr__", [](const train::FitResult& r) {
        return fmt::format("<dagrad.FitResult {} updates from {}, last cost {}{}>", r.iterations, r.first_iteration,
                           r.costs.empty() ? std::nan("") : r.costs.back(), r.message.empty() ? "" : "; " + r.message);
      });

  py::class_<PyModel>(m, "Model", R"(A graph plus its state: parameter values, the optimizer, step counts.

    model = dagrad.Model()
    X = model.input("X", (2, dagrad.m)); Y = model.input("Y", (1, dagrad.m))
    W1 = model.param("W1", (4, 2)); b1 = model.param("b1", (4, 1))
    ...
    model.cost = dagrad.binary_cross_entropy(A2, Y).named("J")
    model.output = A2
    model.fit(X_train, Y_train, iterations=10000, learning_rate=1.2)

Data are the notes' layout: X (n_x, m), one column per sample; Y (1, m).)")
      .def(py::init([](const py::object& dtype) { return PyModel{std::make_shared<Holder>(parse_dtype(dtype))}; }),
           py::arg("dtype") = py::none(), "dtype: 'f64' (default) or 'f32'")
      .def_property_readonly("graph", [](const PyModel& pm) { return graph_of(pm.holder); })
      .def_property_readonly("dtype", [](const PyModel& pm) { return std::string(dtype_name(pm.model().dtype())); })
      .def("input", [](const PyModel& pm, std::string name, const py::object& shape) {
        return graph_of(pm.holder).attr("input")(name, shape); }, py::arg("name"), py::arg("shape"),
        "An input fed at run time (model.graph.input).")
      .def("param", [](const PyModel& pm, std::string name, const py::object& shape) {
        return graph_of(pm.holder).attr("param")(name, shape); }, py::arg("name"), py::arg("shape"),
        "A trained parameter (model.graph.param).")
      .def("constant", [](const PyModel& pm, double v, const py::object& shape) {
        return graph_of(pm.holder).attr("constant")(v, shape); }, py::arg("value"), py::arg("shape") = py::make_tuple(1, 1))
      .def_property("cost", [](const PyModel& pm) { return expr_of(pm, pm.model().cost()); },
                    [](PyModel& pm, const PyExpr& J) {
                      const auto lock = lock_model(*pm.holder);
                      pm.model().set_cost(Expr{&pm.model().graph(), node_of(pm, J, "cost")});
                    }, "The cost J to minimize, a (1x1) node.")
      .def_property("output", [](const PyModel& pm) { return expr_of(pm, pm.model().output()); },
                    [](PyModel& pm, const PyExpr& A) {
                      const auto lock = lock_model(*pm.holder);
                      pm.model().set_output(Expr{&pm.model().graph(), node_of(pm, A, "output")});
                      pm.holder->changed();
                    }, "The prediction A[L].")
      .def_property("outputs", [](const PyModel& pm) {
                      py::list l;
                      for (Expr e : pm.model().outputs()) l.append(expr_of(pm, e));
                      return l;
                    }, [](PyModel& pm, const std::vector<PyExpr>& outs) {
                      const auto lock = lock_model(*pm.holder);
                      std::vector<Expr> es;
                      for (const PyExpr& e : outs) es.push_back(Expr{&pm.model().graph(), node_of(pm, e, "outputs")});
                      pm.model().set_outputs(es);
                      pm.holder->changed();
                    }, "The predictions, for a model with several heads.")
      .def_property("eval_cost", [](const PyModel& pm) { return expr_of(pm, pm.model().eval_cost()); },
                    [](PyModel& pm, const PyExpr& J) {
                      const auto lock = lock_model(*pm.holder);
                      pm.model().set_eval_cost(Expr{&pm.model().graph(), node_of(pm, J, "eval_cost")});
                    }, "The cost reported by evaluate (J when not set).")
      .def_property("params", [](const PyModel& pm) {
                      py::list l;
                      for (Expr e : pm.model().params()) l.append(expr_of(pm, e));
                      return l;
                    }, [](PyModel& pm, const std::vector<PyExpr>& ps) {
                      const auto lock = lock_model(*pm.holder);
                      std::vector<Expr> es;
                      for (const PyExpr& e : ps) es.push_back(Expr{&pm.model().graph(), node_of(pm, e, "params")});
                      pm.model().set_params(es);
                    }, "The trained parameters (every param J depends on, unless set).")
      .def_property_readonly("task", [](const PyModel& pm) { return task_name(pm.model().task()); },
                             "'binary', 'categorical' or 'regression', from the output's op")
      .def_property_readonly("steps", [](const PyModel& pm) { return pm.model().steps; },
                             "Updates applied (the dropout counter of the next one).")
      .def_property_readonly("epochs", [](const PyModel& pm) { return pm.model().epochs; })
      .def_property("seed", [](const PyModel& pm) { return pm.model().seed; },
                    [](PyModel& pm, std::uint64_t s) {
                      const auto lock = lock_model(*pm.holder);
                      pm.model().seed = s;
                    },
                    "Initialization, shuffles and dropout (the CLI's --seed).")
      .def_property_readonly("minimized", [](const PyModel& pm) { return pm.model().minimized(); })
      .def("set_init", [](PyModel& pm, const std::string& init, const py::object& param) {
        const auto lock = lock_model(*pm.holder);
        if (param.is_none()) pm.model().set_init(models::parse_init(init));
        else pm.model().set_init(param.cast<std::string>(), models::parse_init(init));
      }, py::arg("init"), py::arg("param") = py::none(),
        "'zeros', 'small', 'he' or 'xavier', for every weight or one parameter.")
      .def("init_params", [](PyModel& pm, const py::object& seed) {
        const auto lock = lock_model(*pm.holder);
        pm.model().init_params(seed.is_none() ? pm.model().seed : seed.cast<std::uint64_t>());
        pm.holder->changed();
      }, py::arg("seed") = py::none(), "Gives every parameter without a value its initial value.")
      .def("minimize", [](PyModel& pm, const std::string& optimizer, double lr, double beta1, double beta2,
                          double epsilon, double decay_rate, double weight_decay) {
        const auto lock = lock_model(*pm.holder);
        pm.model().minimize(optimizer_config(optimizer, lr, beta1, beta2, epsilon, decay_rate, weight_decay));
      }, py::arg("optimizer") = "gd", py::kw_only(), py::arg("learning_rate") = 0.0075, py::arg("beta1") = 0.9,
        py::arg("beta2") = 0.999, py::arg("epsilon") = 1e-8, py::arg("decay_rate") = 0.0,
        py::arg("weight_decay") = 0.01, "Appends the gradients and the optimizer's update nodes (fit does it once).")
      .def("value_names", [](const PyModel& pm) { return pm.model().value_names(); })
      .def("has_value", [](const PyModel& pm, const std::string& n) { return pm.model().has_value(n); })
      .def("__getitem__", &value_of, py::arg("name"), "A copy of a parameter's or state's value.")
      .def("__setitem__", &set_value, py::arg("name"), py::arg("value"), "Sets a value (copied; shape checked).")
      .def("values", [](PyModel& pm) {
        py::dict d;
        for (const std::string& n : pm.model().value_names()) d[py::str(n)] = value_of(pm, n);
        return d;
      }, "Every parameter and state value by name (copies).")
      .def("set_params", &set_params, py::arg("params"),
           "Every parameter from {name: array} or a parameter file (.npz, as --init-from reads).")
      .def("fit", &fit, py::arg("X"), py::arg("Y") = py::none(), py::kw_only(), py::arg("iterations") = 0,
           py::arg("epochs") = 0, py::arg("batch_size") = 0, py::arg("optimizer") = "gd",
           py::arg("learning_rate") = 0.0075, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
           py::arg("epsilon") = 1e-8, py::arg("decay_rate") = 0.0, py::arg("weight_decay") = 0.01,
           py::arg("normalize") = false, py::arg("init") = py::none(), py::arg("seed") = py::none(),
           py::arg("dev") = py::none(), py::arg("patience") = 0, py::arg("print_every") = 0,
           py::arg("check_numerics") = false, py::arg("callback") = py::none(), py::arg("inputs") = py::none(),
           R"(Trains the model as `dagrad train` does (the same bits for the same options).

X (n_x, m) and Y (1, m) (class numbers for a softmax output), copied once
into the trainer's data set. iterations or epochs are totals (the model's
own steps included). optimizer: gd, momentum, rmsprop, adam, adamw (attached
at the first fit). init ('he', 'xavier', 'small', 'zeros') and seed apply to
parameters without a value. print_every > 0 prints the notes' cost lines.
callback(epoch, steps) runs after each epoch with the GIL held; an exception
it raises stops training and propagates, as does Ctrl-C (KeyboardInterrupt):
the model keeps the updates made so far. The GIL is released while training.)")
      .def("predict", &predict, py::arg("X"), py::arg("out") = py::none(),
           R"(The model's outputs (n_out, m) for X (n_x, m), in inference mode.

X of the model's dtype in C order (the notes' columns) or Fortran order (a
transposed (m, n_x) array, samples as rows) is read in place; any other is
copied once. out: an array of the result's shape to write into (C order,
or Fortran order for a Fortran-ordered X); it is returned. A 1-D X is one
sample and gives a 1-D result.)")
      .def("evaluate", &evaluate, py::arg("X"), py::arg("Y"), py::kw_only(), py::arg("inputs") = py::none(),
           "{'cost', 'accuracy', 'r2', 'samples', 'task'} on a data set.")
      .def("save", [](const PyModel& pm, const py::object& path) {
        const std::string p = fspath(path);
        py::gil_scoped_release release;
        const auto lock = lock_model(*pm.holder);
        models::save_model(pm.model(), p);
      }, py::arg("path"), "Writes the model file the CLI reads (.dagrad), atomically.")
      .def_static("load", [](const py::object& path) {
        const std::string p = fspath(path);
        py::gil_scoped_release release;
        return wrap_model(models::load_model(p));
      }, py::arg("path"), "Reads a model file (.dagrad) as written by `dagrad train --save` or save().")
      .def("export_onnx", [](const PyModel& pm, const py::object& path) {
        const std::string p = fspath(path);
        py::gil_scoped_release release;
        const auto lock = lock_model(*pm.holder);
        models::export_onnx(pm.model(), p);
      }, py::arg("path"), "The inference graph as an ONNX file (as `dagrad export`).")
      .def_static("import_onnx", [](const py::object& path, const py::object& dtype) {
        const std::string p = fspath(path);
        models::OnnxImportOptions o;
        if (!dtype.is_none()) o.dtype = parse_dtype(dtype);
        py::gil_scoped_release release;
        return wrap_model(models::import_onnx(p, o));
      }, py::arg("path"), py::arg("dtype") = py::none(), "A model from an ONNX file (as `dagrad import`).")
      .def("__repr__", [](const PyModel& pm) {
        const models::Model& mo = pm.model();
        return fmt::format("<dagrad.Model {} nodes, {}, {} steps, {} epochs>", mo.graph().size(), dtype_name(mo.dtype()),
                           mo.steps, mo.epochs);
      });

  m.def("build_mlp", [](const std::vector<std::int64_t>& layers, const py::object& hidden, const std::string& output,
                        double l2, const py::object& keep_prob, double leaky_slope, std::uint64_t seed,
                        const py::object& dtype) {
    models::ModelSpec spec;
    spec.layers = layers;
    if (py::isinstance<py::str>(hidden)) {
      spec.hidden = models::parse_activation(hidden.cast<std::string>());
    } else {
      for (py::handle a : hidden) spec.hidden_each.push_back(models::parse_activation(a.cast<std::string>()));
    }
    spec.output = models::parse_output(output);
    spec.l2 = l2;
    if (!keep_prob.is_none()) {
      if (py::isinstance<py::float_>(keep_prob) || py::isinstance<py::int_>(keep_prob))
        spec.keep_prob = {keep_prob.cast<double>()};
      else
        spec.keep_prob = keep_prob.cast<std::vector<double>>();
    }
    spec.leaky_slope = leaky_slope;
    spec.seed = seed;
    spec.validate();
    PyModel pm = wrap_model(models::build_mlp(spec, parse_dtype(dtype)));
    pm.model().seed = seed;
    return pm;
  }, py::arg("layers"), py::kw_only(), py::arg("hidden") = "relu", py::arg("output") = "sigmoid",
        py::arg("l2") = 0.0, py::arg("keep_prob") = py::none(), py::arg("leaky_slope") = 0.01, py::arg("seed") = 1,
        py::arg("dtype") = py::none(),
        R"(The notes' L-layer network (as the CLI's --layers): layers [n0, n1, ..., nL],
hidden 'relu', 'tanh', 'sigmoid', 'leaky_relu' (or one per hidden layer),
output 'sigmoid', 'softmax' or 'linear', l2 lambda, keep_prob for dropout.)");
  m.def("onnx_available", &models::onnx_available, "Whether this build reads and writes ONNX.");
  m.def("set_threads", [](int n) {
    if (n < 1) throw py::value_error(fmt::format("set_threads {}: must be at least 1", n));
    runtime::set_threads(n);
  }, py::arg("threads"), "Threads of the matrix products and element-wise loops (OpenMP).");
  m.def("threads", &runtime::threads);
}

}  // namespace dagrad::python
