#include "cli/bench_gemm.hpp"

#include <cblas.h>

#include "cli/bench.hpp"
#include "dagrad/runtime/executor.hpp"

namespace dagrad::cli {

std::vector<GemmCall> gemm_calls(const Graph& g, std::span<const NodeId> schedule, std::int64_t m) {
  std::vector<GemmCall> out;
  for (NodeId id : schedule) {
    const Node& n = g.node(id);
    if (n.op != OpKind::matmul && n.op != OpKind::matmul_bias) continue;
    const Shape a = g.node(n.inputs[0]).shape.at(m), b = g.node(n.inputs[1]).shape.at(m);
    const Shape c = n.shape.at(m);
    const MatmulAttrs& at = n.attr<MatmulAttrs>();
    out.push_back(GemmCall{a, b, c, at.trans_a, at.trans_b, at.scale.value,
                           n.op == OpKind::matmul_bias ? 1.0 : 0.0,
                           runtime::Tensor(n.dtype, a), runtime::Tensor(n.dtype, b),
                           runtime::Tensor(n.dtype, c)});
  }
  return out;
}

double gemm_flops(const std::vector<GemmCall>& calls) {
  double f = 0;
  for (const GemmCall& c : calls) f += 2.0 * double(c.c.size()) * double(c.ta ? c.a.rows : c.a.cols);
  return f;
}

// Seconds per 512^3 sgemm: the 2-core check that tells whether the VM gave
// both threads a core of their own (OpenBLAS always, not a planned shape).
double gemm_probe(int threads) {
  const int saved = runtime::threads();
  runtime::set_threads(threads);
  const Shape s{512, 512};
  runtime::Tensor A(DType::f32, s), B(DType::f32, s), C(DType::f32, s);
  std::vector<double> t;
  for (int i = 0; i < 7; ++i) {
    const auto t0 = Clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 512, 512, 512, 1.0f, A.data<float>(), 512,
                B.data<float>(), 512, 0.0f, C.data<float>(), 512);
    t.push_back(seconds_since(t0));
  }
  runtime::set_threads(saved);
  return quantile(t, 0.5);
}

}  // namespace dagrad::cli
