// What the Python module's files share: the object a Python Graph, Model and
// Expr keep alive, and the numpy conversions.
//
// Every Python graph is a models::Model (a graph plus its state), held by a
// shared_ptr that each Expr made on it holds too, so an Expr never outlives
// its graph. The mutex serialises what changes the model (fit, set_value,
// load) against what reads it from other threads (predict, run).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "dagrad/models/model.hpp"
#include "dagrad/train/fit.hpp"

namespace dagrad::python {

namespace py = pybind11;

struct Holder {
  explicit Holder(DType dtype) : model(dtype) {}
  explicit Holder(models::Model m) : model(std::move(m)) {}
  models::Model model;
  // Recursive: fit's per-epoch callback runs Python code that may predict.
  std::recursive_mutex mutex;
  // The predictor of the current values; reset by whatever changes them.
  std::unique_ptr<train::Predictor> predictor;
  void changed() { predictor.reset(); }
};
using HolderPtr = std::shared_ptr<Holder>;

// A node of a Python graph.
struct PyExpr {
  HolderPtr holder;
  NodeId id = 0;
  Expr expr() const { return Expr{&holder->model.graph(), id}; }
};

// A Python Model (the same holder as its graph's).
struct PyModel {
  HolderPtr holder;
  models::Model& model() const { return holder->model; }
};

// Locks the model with the GIL released: a thread holding the lock may
// wait for the GIL (fit's callback), so none may wait for the lock holding it.
std::unique_lock<std::recursive_mutex> lock_model(Holder& h);

// The graph object of a holder (dagrad.Graph).
py::object graph_of(const HolderPtr& h);

// A 2-D array of `dtype` as dagrad reads it: `data` points into the caller's
// array (C-contiguous, of that dtype: no copy) or into `copy`. 1-D arrays
// are a row (1 x n), 0-D a 1x1. `what` names the array in messages.
struct ArrayView {
  py::array keep;       // the array `data` points into
  const void* data = nullptr;
  Shape shape{0, 0};
  bool copied = false;
};
ArrayView as_matrix(py::handle obj, DType dtype, std::string_view what);
// Whether `a` holds `dtype`'s floats in this machine's byte order.
bool is_native(const py::array& a, DType dtype);
// numpy.<name>(a, d) for asfortranarray and ascontiguousarray.
py::array numpy_call(const char* name, py::handle a, const py::dtype& d);
// The values as an io::Matrix (always a copy, in double).
io::Matrix to_io_matrix(py::handle obj, std::string_view what);
// A new C-ordered numpy array holding `values` (rows x cols).
py::array from_io_matrix(const io::Matrix& m);
DType parse_dtype(const py::object& dtype);
py::dtype numpy_dtype(DType d);
std::string type_name(py::handle obj);
std::string str_of(py::handle obj);  // str(obj)

void bind_graph(py::module_& m);
void bind_model(py::module_& m);
void bind_viz(py::module_& m);

}  // namespace dagrad::python
