// A host buffer of one dtype: parameters, their gradients, optimizer state
// and data batches live in Tensors that the executor binds without copying.
#pragma once

#include <cstdint>
#include <vector>

#include "dagrad/graph/types.hpp"
#include "dagrad/io/matrix.hpp"

namespace dagrad::runtime {

class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape);  // zeros; refuses impossible sizes first
  static Tensor from_matrix(const io::Matrix& m, DType dtype);
  io::Matrix to_matrix() const;

  DType dtype() const { return dtype_; }
  Shape shape() const { return shape_; }
  std::int64_t size() const { return shape_.size(); }

  // Typed access; asking for the other dtype is a logic error (throws).
  template <class T> T* data();
  template <class T> const T* data() const;
  const void* raw() const;
  void* raw();

  double get(std::int64_t i) const;
  void set(std::int64_t i, double v);

 private:
  DType dtype_ = DType::f64;
  Shape shape_{0, 0};
  std::vector<float> f32_;
  std::vector<double> f64_;
};

}  // namespace dagrad::runtime
