// v      := beta1 v + (1 - beta1) dW                  in place
// s      := beta2 s + (1 - beta2) dW^2                in place
// W      := W - alpha (v / c1) / (sqrt(s / c2) + epsilon)
//           c1 = 1 - beta1^t, c2 = 1 - beta2^t        the notes' bias correction
//
// Adam's update as one loop over W, v and s; alpha, c1 and c2 are (1x1)
// operands computed once per step by the unfused scalar nodes. passes::optimize
// makes it from the nodes train::minimize builds, which stay the reference;
// no gradient rule.
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"
#include "dagrad/ops/update_rules.hpp"

namespace dagrad::ops {

namespace {

Shape adam_shape(const ShapeCall& c) { return update_shape(c, 4); }

template <class T>
void adam_kernel(const KernelCall& c) {
  T* w = c.in[0].as<T>();
  T* v = c.in[1].as<T>();
  T* s = c.in[2].as<T>();
  const T* g = c.in[3].as<T>();
  const T lr = c.in[4].as<T>()[0], c1 = c.in[5].as<T>()[0], c2 = c.in[6].as<T>()[0];
  const Attrs& a = c.node.attrs;
  const T beta1 = static_cast<T>(a.beta1), beta2 = static_cast<T>(a.beta2);
  const T eps = static_cast<T>(a.epsilon);
  parallel_for(c.run.threads, c.out.shape.size(), [&](std::int64_t b, std::int64_t e) {
    with_simd([&] { rules::adam<T>(w + b, v + b, s + b, g + b, e - b, lr, beta1, beta2, eps, c1, c2); });
  });
}

}  // namespace

extern const OpDef adam_update_op{OpKind::adam_update, "adam_update", 7, adam_shape,
                                  DAGRAD_KERNELS(adam_kernel), nullptr, false, 0b111};

}  // namespace dagrad::ops
