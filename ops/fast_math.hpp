// Float transcendentals on 8-lane vectors for the fused narrow-net kernel
// (ops/fused_net_kernel.cpp), where tanh and the output's exp/log are most of a
// step: SLEEF's tanhf costs about 1 ns a value, these about a quarter of it.
// Plain multiplies, adds and one division each, written with GCC vector
// types: the baseline x86-64 copy and the AVX2 copy (ops::with_simd) run the
// same operations in the same order, so they give the same bits. No table,
// no FMA, no approximate reciprocal (whose bits differ between CPU vendors).
// The unfused kernels keep SLEEF (ops/vecmath.hpp).
//
// Error bounds: the largest error over every float of the domain against
// the double functions, measured once exhaustively (tests/ops/fast_math_test.cpp
// checks them on a dense sample):
//   tanh(x)          all x                   2.43 ulp
//   exp_neg(x)       x <= 0                  1.03 ulp above 2^-126, where it is 0
//   log1p_unit(e)    0 <= e <= 1             3.79 ulp
//   log1p_unit_inv   0 <= e <= 1             2.47 ulp (q = 1 / (1 + e) in float)
//   log_pos(x)       normal x > 0            1.97 ulp
// NaN propagates through each of them.
//
// The range reductions: e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln2/2
// (r = x - n ln2 in two steps, Cody and Waite), e^r - 1 by its Taylor series
// to degree 7 (the remainder is below 2^-27 there); log f for f in
// [sqrt(1/2), sqrt(2)] as 2 atanh(s) = 2 (s + s^3/3 + ... + s^9/9) with
// s = (f - 1) / (f + 1), |s| <= 0.172.
#pragma once

#include <bit>
#include <cstdint>

// NOTE: -Wpsabi warns that 32-byte vector arguments change the calling
// convention without -mavx; every function here is always inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dagrad::ops::fast {

using f32x8 = float __attribute__((vector_size(32)));
using i32x8 = std::int32_t __attribute__((vector_size(32)));
using u32x8 = std::uint32_t __attribute__((vector_size(32)));

#define DAGRAD_FAST inline __attribute__((always_inline))

DAGRAD_FAST f32x8 splat(float v) { return f32x8{} + v; }
DAGRAD_FAST f32x8 select(i32x8 m, f32x8 a, f32x8 b) {
  return std::bit_cast<f32x8>((std::bit_cast<i32x8>(a) & m) | (std::bit_cast<i32x8>(b) & ~m));
}
DAGRAD_FAST f32x8 abs(f32x8 x) {
  return std::bit_cast<f32x8>(std::bit_cast<i32x8>(x) & 0x7fffffff);
}
// |t| with the sign of x.
DAGRAD_FAST f32x8 with_sign_of(f32x8 t, f32x8 x) {
  return std::bit_cast<f32x8>(std::bit_cast<i32x8>(t) |
                              (std::bit_cast<i32x8>(x) & static_cast<std::int32_t>(0x80000000u)));
}

namespace detail {

constexpr float ln2_hi = 0.693359375f;       // 9 bits: n * ln2_hi is exact
constexpr float ln2_lo = -2.12194440e-4f;    // ln 2 - ln2_hi
constexpr float inv_ln2 = 1.44269504088896341f;
constexpr float round_magic = 12582912.0f;   // 1.5 * 2^23: adding it rounds to an integer

// n = round(x / ln 2) and r = x - n ln 2, for |x / ln 2| < 2^22.
DAGRAD_FAST void reduce(f32x8 x, f32x8& n, f32x8& r) {
  n = (x * inv_ln2 + round_magic) - round_magic;
  r = (x - n * ln2_hi) - n * ln2_lo;
}

// e^r - 1 for |r| <= ln2/2: r + r^2 (1/2 + r/6 + ... + r^5/5040).
DAGRAD_FAST f32x8 expm1_reduced(f32x8 r) {
  f32x8 q = r * (1.0f / 5040) + (1.0f / 720);
  q = q * r + (1.0f / 120);
  q = q * r + (1.0f / 24);
  q = q * r + (1.0f / 6);
  q = q * r + 0.5f;
  return (r * r) * q + r;
}

// 2^n for an integral n in [-126, 127], exactly.
DAGRAD_FAST f32x8 pow2(f32x8 n) {
  const u32x8 k = std::bit_cast<u32x8>(__builtin_convertvector(n, i32x8));
  return std::bit_cast<f32x8>((k + 127u) << 23);
}

// log f for f in [sqrt(1/2), sqrt(2)]: 2 atanh(s), s = (f - 1) / (f + 1).
DAGRAD_FAST f32x8 log_near_one(f32x8 f) {
  const f32x8 s = (f - 1.0f) / (f + 1.0f);
  const f32x8 z = s * s;
  f32x8 q = z * (2.0f / 9) + (2.0f / 7);
  q = q * z + (2.0f / 5);
  q = q * z + (2.0f / 3);
  return (s * z) * q + (s + s);
}

}  // namespace detail

// e^x for x <= 0. Below -87.3 (where e^x leaves the normal range) it is 0.
DAGRAD_FAST f32x8 exp_neg(f32x8 x) {
  f32x8 n, r;
  detail::reduce(x, n, r);
  const i32x8 tiny = x < -87.33654f;
  const f32x8 safe_n = select(tiny, splat(0.0f), n);  // keeps 2^n normal
  const f32x8 y = (detail::expm1_reduced(r) + 1.0f) * detail::pow2(safe_n);
  return select(tiny, splat(0.0f), y);
}

// tanh(x) = e / (e + 2) with e = e^(2|x|) - 1, and x's sign. e is found as
// 2^n (1 + expm1(r)) - 1 = 2^n expm1(r) + (2^n - 1): no cancellation for
// small x (n = 0 leaves expm1(r) itself). Above |x| = 9.5 tanh rounds to 1.
DAGRAD_FAST f32x8 tanh(f32x8 x) {
  f32x8 y = abs(x);
  y = y + y;
  y = select(y > 19.0f, splat(19.0f), y);  // NaN > 19 is false: NaN stays
  f32x8 n, r;
  detail::reduce(y, n, r);
  const f32x8 s = detail::pow2(n);
  const f32x8 e = s * detail::expm1_reduced(r) + (s - 1.0f);
  return with_sign_of(e / (e + 2.0f), x);
}

// log u for u in [1, 2]: above sqrt(2), log(u / 2) + log 2 (ln2 in two
// parts), so log_near_one always sees an argument in [0.707, 1.414].
DAGRAD_FAST f32x8 log_one_to_two(f32x8 u) {
  const i32x8 big = u > 1.41421356f;
  const f32x8 f = select(big, u * 0.5f, u);
  return detail::log_near_one(f) + select(big, splat(detail::ln2_hi), splat(0.0f)) +
         select(big, splat(detail::ln2_lo), splat(0.0f));
}

// log(1 + e) for e in [0, 1]: u = 1 + e rounds, so the result is corrected
// by e / (u - 1) (Goldberg), which is exact where u - 1 is not e.
DAGRAD_FAST f32x8 log1p_unit(f32x8 e) {
  const f32x8 u = 1.0f + e;
  const f32x8 log_u = log_one_to_two(u);
  const f32x8 d = u - 1.0f;
  const i32x8 exact = d == 0.0f;
  return select(exact, e, log_u * (e / select(exact, splat(1.0f), d)));
}

// log(1 + e) for e in [0, 1] when q = 1 / (1 + e) is at hand (within an
// ulp; the sigmoid computes it): u = 1 + e rounds, and log(1 + e) - log(u)
// = log(1 + (e - (u - 1)) / u) is (e - (u - 1)) q to far below an ulp, with
// e - (u - 1) exact. One division fewer than log1p_unit.
DAGRAD_FAST f32x8 log1p_unit_inv(f32x8 e, f32x8 q) {
  const f32x8 u = 1.0f + e;
  const f32x8 log_u = log_one_to_two(u);
  return log_u + (e - (u - 1.0f)) * q;
}

// log x for a positive normal x (a softmax's normalizer, in [1, K]).
DAGRAD_FAST f32x8 log_pos(f32x8 x) {
  const i32x8 bits = std::bit_cast<i32x8>(x);
  // x = 2^k f with f in [sqrt(1/2), sqrt(2)): shift the mantissa's range by
  // the bits of sqrt(1/2) before splitting off the exponent.
  const i32x8 shifted = bits - 0x3f3504f3;
  const i32x8 k = shifted >> 23;
  const f32x8 f = std::bit_cast<f32x8>((shifted & 0x007fffff) + 0x3f3504f3);
  const f32x8 kf = __builtin_convertvector(k, f32x8);
  const f32x8 y = (detail::log_near_one(f) + kf * detail::ln2_lo) + kf * detail::ln2_hi;
  return select(x == x, y, x);  // NaN stays NaN
}

#undef DAGRAD_FAST

}  // namespace dagrad::ops::fast

#pragma GCC diagnostic pop
