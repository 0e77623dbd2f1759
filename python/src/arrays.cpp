// numpy in and out. An array of the graph's dtype laid out C-contiguous is
// read where it lies (the buffer protocol); any other layout (a transposed,
// strided or Fortran-ordered view) or dtype (the other float width, ints,
// bools) is copied once into a C-ordered array of the graph's dtype.
#include <fmt/format.h>

#include <bit>

#include "dagrad/graph/error.hpp"
#include "python/src/bindings.hpp"

namespace dagrad::python {

std::string str_of(py::handle obj) { return py::str(obj).cast<std::string>(); }

std::string type_name(py::handle obj) {
  return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}

py::dtype numpy_dtype(DType d) {
  return d == DType::f32 ? py::dtype::of<float>() : py::dtype::of<double>();
}

DType parse_dtype(const py::object& dtype) {
  if (dtype.is_none()) return DType::f64;
  if (py::isinstance<py::str>(dtype)) {
    const auto s = dtype.cast<std::string>();
    if (s == "f64" || s == "float64" || s == "double") return DType::f64;
    if (s == "f32" || s == "float32" || s == "float") return DType::f32;
    throw py::value_error(fmt::format("dtype '{}' is neither 'f32' nor 'f64'", excerpt(s)));
  }
  const py::dtype d = py::dtype::from_args(dtype);
  if (d.is(py::dtype::of<double>()) || (d.kind() == 'f' && d.itemsize() == 8)) return DType::f64;
  if (d.kind() == 'f' && d.itemsize() == 4) return DType::f32;
  throw py::type_error(fmt::format("dtype {} is neither float32 nor float64",
                                   str_of(d)));
}

bool is_native(const py::array& a, DType dtype) {
  const py::dtype d = a.dtype();
  constexpr char native = std::endian::native == std::endian::little ? '<' : '>';
  const char order = d.byteorder();
  return d.num() == (dtype == DType::f32 ? 11 : 12) &&  // NPY_FLOAT, NPY_DOUBLE
         (order == '=' || order == '|' || order == native);
}

namespace {
// numpy's functions, looked up once (never freed: the interpreter may be
// finalizing when static objects die).
py::object& numpy_function(const char* name) {
  static auto* numpy = new py::object(py::module_::import("numpy"));
  if (std::string_view(name) == "asarray") {
    static auto* f = new py::object(numpy->attr("asarray"));
    return *f;
  }
  if (std::string_view(name) == "asfortranarray") {
    static auto* f = new py::object(numpy->attr("asfortranarray"));
    return *f;
  }
  static auto* f = new py::object(numpy->attr("ascontiguousarray"));
  return *f;
}
}  // namespace

py::array numpy_call(const char* name, py::handle a, const py::dtype& d) {
  return numpy_function(name)(a, d);
}

ArrayView as_matrix(py::handle obj, DType dtype, std::string_view what) {
  py::array a;
  if (py::isinstance<py::array>(obj)) {
    a = py::reinterpret_borrow<py::array>(obj);
  } else {
    try {
      a = numpy_function("asarray")(obj);
    } catch (py::error_already_set&) {
      throw py::type_error(fmt::format("{}: expected a numpy array of numbers, got {}", what, type_name(obj)));
    }
  }
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
    throw py::type_error(fmt::format("{}: an array of dtype {}; dagrad takes real numbers (float32 or float64)",
                                     what, str_of(a.dtype())));
  if (a.ndim() > 2)
    throw py::value_error(fmt::format("{}: a {}-D array of shape {}; dagrad takes 2-D matrices (rows x columns)",
                                      what, a.ndim(), py::str(py::tuple(py::cast(std::vector<py::ssize_t>(
                                                          a.shape(), a.shape() + a.ndim())))).cast<std::string>()));
  ArrayView v;
  const py::dtype want = numpy_dtype(dtype);
  if (is_native(a, dtype) && (a.flags() & py::array::c_style)) {
    v.keep = a;
  } else {
    v.keep = numpy_function("ascontiguousarray")(a, want);
    v.copied = true;
  }
  v.data = v.keep.data();
  if (a.ndim() == 2) v.shape = Shape{a.shape(0), a.shape(1)};
  else if (a.ndim() == 1) v.shape = Shape{1, a.shape(0)};
  else v.shape = Shape{1, 1};
  return v;
}

io::Matrix to_io_matrix(py::handle obj, std::string_view what) {
  const ArrayView v = as_matrix(obj, DType::f64, what);
  io::Matrix m;
  m.shape = v.shape;
  const auto* p = static_cast<const double*>(v.data);
  m.values.assign(p, p + v.shape.size());
  return m;
}

py::array from_io_matrix(const io::Matrix& m) {
  py::array_t<double> a({m.rows(), m.cols()});
  std::copy(m.values.begin(), m.values.end(), a.mutable_data());
  return a;
}

}  // namespace dagrad::python
