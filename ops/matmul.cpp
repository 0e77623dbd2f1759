// y      = s op(a) op(b)            op(x) = x or x^T (trans_a, trans_b)
// dy     = s d(op(a)) op(b) + s op(a) d(op(b))
// grad_a = s g op(b)^T              (transposed back when trans_a)
// grad_b = s op(a)^T g              (transposed back when trans_b)
//
// The transposes are GEMM flags: no transposed copy is ever made.
#include <algorithm>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/shape_rules.hpp"

namespace dagrad::ops {

namespace {

Shape op_shape(Shape s, bool trans) { return trans ? Shape{s.cols, s.rows} : s; }

Shape matmul_shape(const ShapeCall& c) {
  const Shape a = op_shape(c.graph.node(c.inputs[0]).shape, c.attrs.get<MatmulAttrs>().trans_a);
  const Shape b = op_shape(c.graph.node(c.inputs[1]).shape, c.attrs.get<MatmulAttrs>().trans_b);
  if (a.cols != b.rows)
    throw ShapeError(fmt::format("{}: inner dimensions {} != {}", operands(c, "*"),
                                 to_string_dim(a.cols), to_string_dim(b.rows)));
  return Shape{a.rows, b.cols};
}

template <class T>
void gemm_kernel(const KernelCall& c) {
  gemm<T>(c.in[0], c.node.attr<MatmulAttrs>().trans_a, c.in[1], c.node.attr<MatmulAttrs>().trans_b,
          static_cast<T>(scale_of(c)), T(0), c.out);
}

std::vector<Expr> matmul_grad(const GradCall& c) {
  const MatmulAttrs& at = c.attrs.get<MatmulAttrs>();
  const bool ta = at.trans_a, tb = at.trans_b;
  const Scale s = c.attrs.scale_factor();
  Expr a = c.x[0], b = c.x[1], g = c.g;
  Expr ga, gb;
  // d(op(a)) = s g op(b)^T; when trans_a, grad_a = (s g op(b)^T)^T = s op(b) g^T.
  if (c.wanted[0]) ga = ta ? matmul(b, tb, g, true, s) : matmul(g, false, b, !tb, s);
  // d(op(b)) = s op(a)^T g; when trans_b, grad_b = s g^T op(a).
  if (c.wanted[1]) gb = tb ? matmul(g, true, a, ta, s) : matmul(a, !ta, g, false, s);
  return {ga, gb};
}

}  // namespace

namespace {

// dot(a, b) over n elements with 8 independent partial sums, so that the
// compiler vectorizes it without reassociating one long chain.
template <class T>
T dot8(const T* a, const T* b, std::int64_t n) {
  T acc[8] = {};
  std::int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int l = 0; l < 8; ++l) acc[l] += a[k + l] * b[k + l];
  T tail = 0;
  for (; k < n; ++k) tail += a[k] * b[k];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// The tiny-GEMM loop. With op(B) = B each row of C is a sum of scaled rows
// of B (contiguous, vectorized over j); with op(B) = B^T and op(A) = A each
// element is a dot product of two contiguous rows.
template <class T>
void small_gemm_body(const Buffer& A, bool ta, const Buffer& B, bool tb, T alpha, T beta,
                     const Buffer& C) {
  const std::int64_t M = C.shape.rows, N = C.shape.cols;
  const std::int64_t K = ta ? A.shape.rows : A.shape.cols;
  const std::int64_t lda = A.shape.cols, ldb = B.shape.cols;
  const T* a = A.as<T>();
  const T* b = B.as<T>();
  T* c = C.as<T>();
  auto a_at = [&](std::int64_t i, std::int64_t k) { return ta ? a[k * lda + i] : a[i * lda + k]; };
  for (std::int64_t i = 0; i < M; ++i) {
    T* row = c + i * N;
    if (beta == T(0)) std::fill_n(row, N, T(0));
    if (!tb) {
      for (std::int64_t k = 0; k < K; ++k) {
        const T s = alpha * a_at(i, k);
        const T* brow = b + k * ldb;
        for (std::int64_t j = 0; j < N; ++j) row[j] += s * brow[j];
      }
    } else if (!ta) {
      for (std::int64_t j = 0; j < N; ++j) row[j] += alpha * dot8(a + i * lda, b + j * ldb, K);
    } else {
      for (std::int64_t j = 0; j < N; ++j) {
        T acc = 0;
        for (std::int64_t k = 0; k < K; ++k) acc += a_at(i, k) * b[j * ldb + k];
        row[j] += alpha * acc;
      }
    }
  }
}

// Compiled for baseline x86-64 and for AVX2, picked at run time (with_simd).
template <class T>
void small_gemm(const Buffer& A, bool ta, const Buffer& B, bool tb, T alpha, T beta,
                const Buffer& C) {
  with_simd([&] { small_gemm_body<T>(A, ta, B, tb, alpha, beta, C); });
}

}  // namespace

template <class T>
void gemm(const Buffer& A, bool ta, const Buffer& B, bool tb, T alpha, T beta, const Buffer& C) {
  const std::int64_t K = ta ? A.shape.rows : A.shape.cols;
  if (C.shape.size() * K <= small_gemm_limit) return small_gemm<T>(A, ta, B, tb, alpha, beta, C);
  blas_gemm<T>(A, ta, B, tb, alpha, beta, C);
}

template void gemm<float>(const Buffer&, bool, const Buffer&, bool, float, float, const Buffer&);
template void gemm<double>(const Buffer&, bool, const Buffer&, bool, double, double,
                           const Buffer&);

extern const OpDef matmul_op{OpKind::matmul, "matmul", 2, matmul_shape, DAGRAD_KERNELS(gemm_kernel),
                             matmul_grad, true, 0, nullptr, 0, attrs_index<MatmulAttrs>()};

}  // namespace dagrad::ops
