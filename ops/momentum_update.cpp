// v      := beta1 v + (1 - beta1) dW                  in place
// W      := W - alpha v                               alpha (1x1)
//
// Momentum's update as one loop over W and v. passes::optimize makes it from
// the nodes train::minimize builds (assign(v, beta1 v + (1 - beta1) dW) and
// assign(W, W - alpha v)), which stay the reference; no gradient rule.
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"
#include "dagrad/ops/update_rules.hpp"

namespace dagrad::ops {

namespace {

Shape momentum_shape(const ShapeCall& c) { return update_shape(c, 3); }

template <class T>
void momentum_kernel(const KernelCall& c) {
  T* w = c.in[0].as<T>();
  T* v = c.in[1].as<T>();
  const T* g = c.in[2].as<T>();
  const T lr = c.in[3].as<T>()[0], beta = static_cast<T>(c.node.attrs.beta1);
  parallel_for(c.run.threads, c.out.shape.size(), [&](std::int64_t b, std::int64_t e) {
    with_simd([&] { rules::momentum<T>(w + b, v + b, g + b, e - b, lr, beta); });
  });
}

}  // namespace

extern const OpDef momentum_update_op{OpKind::momentum_update, "momentum_update", 4,
                                      momentum_shape, DAGRAD_KERNELS(momentum_kernel), nullptr,
                                      false, 0b11};

}  // namespace dagrad::ops
