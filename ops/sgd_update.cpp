// W      := W - alpha dW                              in place; alpha (1x1)
//
// Gradient descent's update as one loop over W. passes::optimize makes it
// from the nodes train::minimize builds, assign(W, W - alpha * dW), which
// stay the reference; it has no gradient rule.
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"
#include "dagrad/ops/update_rules.hpp"

namespace dagrad::ops {

namespace {

Shape sgd_shape(const ShapeCall& c) { return update_shape(c, 2); }

template <class T>
void sgd_kernel(const KernelCall& c) {
  T* w = c.in[0].as<T>();
  const T* g = c.in[1].as<T>();
  const T lr = c.in[2].as<T>()[0];
  parallel_for(c.run.threads, c.out.shape.size(), [&](std::int64_t b, std::int64_t e) {
    with_simd([&] { rules::sgd<T>(w + b, g + b, e - b, lr); });
  });
}

}  // namespace

extern const OpDef sgd_update_op{OpKind::sgd_update, "sgd_update", 3, sgd_shape,
                                 DAGRAD_KERNELS(sgd_kernel), nullptr, false, 0b1};

}  // namespace dagrad::ops
