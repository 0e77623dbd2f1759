// The library is compiled for baseline x86-64, so the AVX2 code lives in
// functions marked with a target attribute and is only called after
// __builtin_cpu_supports says the CPU can run it. The pragma makes sleef.h
// declare its __m256 functions in this file.
#include "dagrad/ops/vecmath.hpp"

#include "dagrad/ops/kernels.hpp"

#include <cmath>

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>
// NOTE: sleef.h declares its __m256 functions only under __AVX__, which the
// pragma does not define; define it for this one include. Only functions
// with the avx2 target attribute below call them.
#ifndef __AVX__
#define __AVX__ 1
#define DAGRAD_UNDEF_AVX 1
#endif
#include <sleef.h>
#ifdef DAGRAD_UNDEF_AVX
#undef __AVX__
#endif
#pragma GCC pop_options
#define DAGRAD_HAVE_SLEEF_AVX2 1
#endif

// NOTE: -Wpsabi warns that __m256 arguments change the calling convention
// without -mavx. Every function that passes one is compiled for avx2 below
// and none is called from baseline code, so the conventions always agree.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dagrad::ops::vec {

namespace {

#if DAGRAD_HAVE_SLEEF_AVX2
const bool g_has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
bool g_avx2 = g_has_avx2;

#define DAGRAD_AVX2 __attribute__((target("avx2,fma")))

// Applies the 8-lane float function f over n elements; the tail goes through
// a zero-padded block so that every element sees the same function.
template <class F>
DAGRAD_AVX2 inline void lanes_f(const float* x, float* y, std::int64_t n, F f) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i == n) return;
  alignas(32) float tmp[8] = {};
  for (std::int64_t k = i; k < n; ++k) tmp[k - i] = x[k];
  _mm256_store_ps(tmp, f(_mm256_load_ps(tmp)));
  for (std::int64_t k = i; k < n; ++k) y[k] = tmp[k - i];
}

template <class F>
DAGRAD_AVX2 inline void lanes_d(const double* x, double* y, std::int64_t n, F f) {
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, f(_mm256_loadu_pd(x + i)));
  if (i == n) return;
  alignas(32) double tmp[4] = {};
  for (std::int64_t k = i; k < n; ++k) tmp[k - i] = x[k];
  _mm256_store_pd(tmp, f(_mm256_load_pd(tmp)));
  for (std::int64_t k = i; k < n; ++k) y[k] = tmp[k - i];
}

// NOTE: float tanh is SLEEF's 3.5-ULP variant: the 1-ULP one costs 4.0 us
// per 1600 values here against 1.7, and tanh is most of a small tanh net's
// step. tests/ops/vecmath_test.cpp measures the error against a double tanh.
DAGRAD_AVX2 void tanh_f(const float* x, float* y, std::int64_t n) {
  lanes_f(x, y, n, [](__m256 v) DAGRAD_AVX2 { return Sleef_tanhf8_u35avx2(v); });
}
DAGRAD_AVX2 void tanh_d(const double* x, double* y, std::int64_t n) {
  lanes_d(x, y, n, [](__m256d v) DAGRAD_AVX2 { return Sleef_tanhd4_u10avx2(v); });
}
DAGRAD_AVX2 void exp_f(const float* x, float* y, std::int64_t n) {
  lanes_f(x, y, n, [](__m256 v) DAGRAD_AVX2 { return Sleef_expf8_u10avx2(v); });
}
DAGRAD_AVX2 void exp_d(const double* x, double* y, std::int64_t n) {
  lanes_d(x, y, n, [](__m256d v) DAGRAD_AVX2 { return Sleef_expd4_u10avx2(v); });
}
DAGRAD_AVX2 void log_f(const float* x, float* y, std::int64_t n) {
  lanes_f(x, y, n, [](__m256 v) DAGRAD_AVX2 { return Sleef_logf8_u10avx2(v); });
}
DAGRAD_AVX2 void log_d(const double* x, double* y, std::int64_t n) {
  lanes_d(x, y, n, [](__m256d v) DAGRAD_AVX2 { return Sleef_logd4_u10avx2(v); });
}
// 1 / (1 + e^-x); for x << 0, e^-x = inf and the quotient is exactly 0.
DAGRAD_AVX2 void sigmoid_f(const float* x, float* y, std::int64_t n) {
  lanes_f(x, y, n, [](__m256 v) DAGRAD_AVX2 {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_setzero_ps(), v));
    return _mm256_div_ps(one, _mm256_add_ps(one, e));
  });
}
DAGRAD_AVX2 void sigmoid_d(const double* x, double* y, std::int64_t n) {
  lanes_d(x, y, n, [](__m256d v) DAGRAD_AVX2 {
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d e = Sleef_expd4_u10avx2(_mm256_sub_pd(_mm256_setzero_pd(), v));
    return _mm256_div_pd(one, _mm256_add_pd(one, e));
  });
}
// log1p(e^-|x|): |x| by clearing the sign bit (NaN stays NaN).
DAGRAD_AVX2 void softplus_f(const float* x, float* y, std::int64_t n) {
  lanes_f(x, y, n, [](__m256 v) DAGRAD_AVX2 {
    const __m256 neg_abs = _mm256_or_ps(v, _mm256_set1_ps(-0.0f));
    return Sleef_log1pf8_u10avx2(Sleef_expf8_u10avx2(neg_abs));
  });
}
DAGRAD_AVX2 void softplus_d(const double* x, double* y, std::int64_t n) {
  lanes_d(x, y, n, [](__m256d v) DAGRAD_AVX2 {
    const __m256d neg_abs = _mm256_or_pd(v, _mm256_set1_pd(-0.0));
    return Sleef_log1pd4_u10avx2(Sleef_expd4_u10avx2(neg_abs));
  });
}
#else
const bool g_has_avx2 = false;
bool g_avx2 = false;
#endif

template <class T, class F>
void scalar_loop(const T* x, T* y, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

}  // namespace

bool simd_enabled() { return g_avx2; }
void set_simd_enabled(bool on) { g_avx2 = on && g_has_avx2; }

#if DAGRAD_HAVE_SLEEF_AVX2
#define DAGRAD_DISPATCH(simd, x, y, n, scalar) \
  if (g_avx2) return simd(x, y, n);           \
  scalar_loop(x, y, n, scalar)
#else
#define DAGRAD_DISPATCH(simd, x, y, n, scalar) scalar_loop(x, y, n, scalar)
#endif

template <class T> static T sigmoid_scalar(T v) { return T(1) / (T(1) + std::exp(-v)); }
template <class T> static T softplus_scalar(T v) { return std::log1p(std::exp(-std::abs(v))); }

void tanh(const float* x, float* y, std::int64_t n) {
  DAGRAD_DISPATCH(tanh_f, x, y, n, [](float v) { return std::tanh(v); });
}
void tanh(const double* x, double* y, std::int64_t n) {
  DAGRAD_DISPATCH(tanh_d, x, y, n, [](double v) { return std::tanh(v); });
}
void exp(const float* x, float* y, std::int64_t n) {
  DAGRAD_DISPATCH(exp_f, x, y, n, [](float v) { return std::exp(v); });
}
void exp(const double* x, double* y, std::int64_t n) {
  DAGRAD_DISPATCH(exp_d, x, y, n, [](double v) { return std::exp(v); });
}
void log(const float* x, float* y, std::int64_t n) {
  DAGRAD_DISPATCH(log_f, x, y, n, [](float v) { return std::log(v); });
}
void log(const double* x, double* y, std::int64_t n) {
  DAGRAD_DISPATCH(log_d, x, y, n, [](double v) { return std::log(v); });
}
void sigmoid(const float* x, float* y, std::int64_t n) {
  DAGRAD_DISPATCH(sigmoid_f, x, y, n, sigmoid_scalar<float>);
}
void sigmoid(const double* x, double* y, std::int64_t n) {
  DAGRAD_DISPATCH(sigmoid_d, x, y, n, sigmoid_scalar<double>);
}
void softplus_neg_abs(const float* x, float* y, std::int64_t n) {
  DAGRAD_DISPATCH(softplus_f, x, y, n, softplus_scalar<float>);
}
void softplus_neg_abs(const double* x, double* y, std::int64_t n) {
  DAGRAD_DISPATCH(softplus_d, x, y, n, softplus_scalar<double>);
}

}  // namespace dagrad::ops::vec

namespace dagrad::ops {

bool set_simd(bool on) {
  const bool was = vec::simd_enabled();
#if defined(__x86_64__) && defined(__GNUC__)
  detail::use_avx2 = on && detail::cpu_has_avx2;
#endif
  vec::set_simd_enabled(on);
  return was;
}

}  // namespace dagrad::ops
