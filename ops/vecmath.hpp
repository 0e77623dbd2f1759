// Vectorized transcendental loops for the element-wise kernels, through SLEEF's
// AVX2 functions when the CPU has AVX2 and FMA (checked once at run time),
// and through the C library otherwise. SLEEF states their error bounds: 1 ULP
// for all but float tanh, which uses the 3.5-ULP variant (2.4x faster).
// No -ffast-math: NaN and Inf propagate exactly as in the scalar functions,
// so check_numerics still works.
//   y = tanh(x),  y = exp(x),  y = log(x),  y = 1 / (1 + exp(-x)),
//   y = log(1 + exp(-|x|))   (the stable tail of the BCE-with-logits cost)
#pragma once

#include <cstdint>

namespace dagrad::ops::vec {

void tanh(const float* x, float* y, std::int64_t n);
void tanh(const double* x, double* y, std::int64_t n);
void exp(const float* x, float* y, std::int64_t n);
void exp(const double* x, double* y, std::int64_t n);
void log(const float* x, float* y, std::int64_t n);
void log(const double* x, double* y, std::int64_t n);
void sigmoid(const float* x, float* y, std::int64_t n);
void sigmoid(const double* x, double* y, std::int64_t n);
void softplus_neg_abs(const float* x, float* y, std::int64_t n);
void softplus_neg_abs(const double* x, double* y, std::int64_t n);

// True when the SLEEF AVX2 path is in use (for bench reports and tests).
bool simd_enabled();
// Uses the SLEEF AVX2 path when `on` and the CPU has AVX2 and FMA, the C
// library otherwise (ops::set_simd switches this and the loops together).
void set_simd_enabled(bool on);

}  // namespace dagrad::ops::vec
