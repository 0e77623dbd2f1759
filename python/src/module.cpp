// The extension module dagrad._dagrad: dagrad's exceptions as Python ones
// (a wrong shape, dtype or feed is a ValueError carrying dagrad's message),
// then the graph, model and viz bindings. The package dagrad (python/dagrad)
// re-exports it with the notebook helpers.
#include "dagrad/graph/error.hpp"
#include "python/src/bindings.hpp"

PYBIND11_MODULE(_dagrad, m) {
  namespace py = pybind11;
  using namespace dagrad;
  m.doc() = "dagrad's C++ core: graphs, gradients, training and inference on numpy arrays.";
  // Base classes: ShapeError, GraphError and InputError are ValueErrors;
  // NumericError an ArithmeticError. All derive from dagrad.Error.
  static py::exception<Error> error(m, "Error", PyExc_ValueError);
  static py::exception<ShapeError> shape_error(m, "ShapeError", error.ptr());
  static py::exception<GraphError> graph_error(m, "GraphError", error.ptr());
  static py::exception<InputError> input_error(m, "InputError", error.ptr());
  static py::object numeric_bases = py::make_tuple(error, py::handle(PyExc_ArithmeticError));
  static py::exception<NumericError> numeric_error(m, "NumericError", numeric_bases.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ShapeError& e) {
      shape_error(e.what());
    } catch (const GraphError& e) {
      graph_error(e.what());
    } catch (const InputError& e) {
      input_error(e.what());
    } catch (const NumericError& e) {
      numeric_error(e.what());
    } catch (const Error& e) {
      error(e.what());
    }
  });
  dagrad::python::bind_graph(m);
  dagrad::python::bind_model(m);
  dagrad::python::bind_viz(m);
}
