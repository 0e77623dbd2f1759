#include "dagrad/runtime/tensor.hpp"

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/limits.hpp"

namespace dagrad::runtime {

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(shape) {
  io::check_memory(checked_bytes(shape, dtype, "tensor"),
                   [&] { return fmt::format("a {} {} tensor", to_string(shape), dtype_name(dtype)); });
  const auto n = static_cast<std::size_t>(shape.size());
  if (dtype == DType::f32) f32_.assign(n, 0.0f);
  else f64_.assign(n, 0.0);
}

Tensor Tensor::from_matrix(const io::Matrix& m, DType dtype) {
  Tensor t(dtype, m.shape);
  for (std::int64_t i = 0; i < t.size(); ++i) t.set(i, m.values[static_cast<std::size_t>(i)]);
  return t;
}

io::Matrix Tensor::to_matrix() const {
  io::Matrix m(shape_);
  for (std::int64_t i = 0; i < size(); ++i) m.values[static_cast<std::size_t>(i)] = get(i);
  return m;
}

template <>
float* Tensor::data<float>() {
  if (dtype_ != DType::f32) throw Error("tensor: f32 access to f64 data");
  return f32_.data();
}
template <>
double* Tensor::data<double>() {
  if (dtype_ != DType::f64) throw Error("tensor: f64 access to f32 data");
  return f64_.data();
}
template <>
const float* Tensor::data<float>() const {
  return const_cast<Tensor*>(this)->data<float>();
}
template <>
const double* Tensor::data<double>() const {
  return const_cast<Tensor*>(this)->data<double>();
}

const void* Tensor::raw() const {
  return dtype_ == DType::f32 ? static_cast<const void*>(f32_.data()) : f64_.data();
}
void* Tensor::raw() { return dtype_ == DType::f32 ? static_cast<void*>(f32_.data()) : f64_.data(); }

double Tensor::get(std::int64_t i) const {
  const auto k = static_cast<std::size_t>(i);
  return dtype_ == DType::f32 ? double(f32_[k]) : f64_[k];
}

void Tensor::set(std::int64_t i, double v) {
  const auto k = static_cast<std::size_t>(i);
  if (dtype_ == DType::f32) f32_[k] = static_cast<float>(v);
  else f64_[k] = v;
}

}  // namespace dagrad::runtime
