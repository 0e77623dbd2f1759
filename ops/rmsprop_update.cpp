// s      := beta2 s + (1 - beta2) dW^2                in place
// W      := W - alpha dW / (sqrt(s) + epsilon)        alpha (1x1)
//
// RMSprop's update as one loop over W and s. passes::optimize makes it from
// the nodes train::minimize builds, which stay the reference; no gradient rule.
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"
#include "dagrad/ops/update_rules.hpp"

namespace dagrad::ops {

namespace {

Shape rmsprop_shape(const ShapeCall& c) { return update_shape(c, 3); }

template <class T>
void rmsprop_kernel(const KernelCall& c) {
  T* w = c.in[0].as<T>();
  T* s = c.in[1].as<T>();
  const T* g = c.in[2].as<T>();
  const T lr = c.in[3].as<T>()[0];
  const T beta2 = static_cast<T>(c.node.attrs.beta2), eps = static_cast<T>(c.node.attrs.epsilon);
  parallel_for(c.run.threads, c.out.shape.size(), [&](std::int64_t b, std::int64_t e) {
    with_simd([&] { rules::rmsprop<T>(w + b, s + b, g + b, e - b, lr, beta2, eps); });
  });
}

}  // namespace

extern const OpDef rmsprop_update_op{OpKind::rmsprop_update, "rmsprop_update", 4, rmsprop_shape,
                                     DAGRAD_KERNELS(rmsprop_kernel), nullptr, false, 0b11};

}  // namespace dagrad::ops
