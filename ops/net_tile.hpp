// A tile of samples for the narrow-net kernels: the training step
// (ops/fused_net_kernel.cpp) and the inference forward pass
// (serve/narrow_forward.cpp) hold a layer's values for tile_samples<T>
// samples as rows of TV vectors (row r, sample s at vector r TV + s / lanes,
// lane s % lanes), small enough to stay in L1. What both compute on a tile
// is here, once: the affine map and the hidden activations, whose formulas
// are ops/activation_rule.hpp's.
#pragma once

#include <cstdint>
#include <type_traits>

#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/fast_math.hpp"
#include "dagrad/ops/fused_net.hpp"

// NOTE: -Wpsabi warns that 32-byte vector arguments change the calling
// convention without -mavx; everything here is inlined into its caller.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dagrad::ops::net_tile {

constexpr int TV = 4;  // vectors per row of a tile

template <class T> struct Vec;
template <> struct Vec<float> {
  using V = fast::f32x8;
  using D = double __attribute__((vector_size(64)));  // the 8 lanes in double
};
template <> struct Vec<double> {
  using V = double __attribute__((vector_size(32)));
  using D = V;
};

template <class T> using V = typename Vec<T>::V;
template <class T> constexpr int lanes = static_cast<int>(sizeof(V<T>) / sizeof(T));
template <class T> constexpr std::int64_t tile_samples = TV * lanes<T>;

template <class T> inline V<T> splat(T v) { return V<T>{} + v; }

// Calls f with n as a compile-time constant for the narrowest widths (the
// loops over it then unroll, their sums held in registers), else with 0 (a
// run-time width). The arithmetic and its order are the same either way.
template <class F>
inline void with_width(std::int64_t n, F&& f) {
  switch (n) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    default: f(std::integral_constant<int, 0>{}); break;
  }
}

// out (n_out x tile) = W in + b, W row-major (n_out x n_in): each unit's
// sum starts at b and adds w_k in_k in k order. NI > 0: n_in is NI, NO > 0:
// n_out is NO (with_width's constants).
template <class T, int NI = 0, int NO = 0>
inline void affine_rows(const T* W, const T* b, const V<T>* in, V<T>* out, std::int64_t n_out_given,
                        std::int64_t n_in_given) {
  const std::int64_t n_in = NI > 0 ? NI : n_in_given, n_out = NO > 0 ? NO : n_out_given;
  for (std::int64_t i = 0; i < n_out; ++i) {
    V<T> acc[TV];
    for (int v = 0; v < TV; ++v) acc[v] = splat(b[i]);
    const T* w = W + i * n_in;
    for (std::int64_t k = 0; k < n_in; ++k) {
      const V<T> wk = splat(w[k]);
      for (int v = 0; v < TV; ++v) acc[v] += wk * in[k * TV + v];
    }
    for (int v = 0; v < TV; ++v) out[i * TV + v] = acc[v];
  }
}

// h := g(h) over n vectors for tanh and sigmoid: float on vectors, a
// row's TV vectors side by side so that their long dependency chains
// (polynomial, division) overlap (n is a multiple of TV); double on the
// arrays the unfused kernels call.
template <class T, class OnVector, class OnArray>
inline void squash(V<T>* h, std::int64_t n, OnVector g, OnArray g_array) {
  if constexpr (std::is_same_v<T, float>) {
    for (std::int64_t i = 0; i < n; i += TV) {
      V<T> r[TV];
      for (int v = 0; v < TV; ++v) r[v] = g(h[i + v]);
      for (int v = 0; v < TV; ++v) h[i + v] = r[v];
    }
  } else {
    g_array(reinterpret_cast<T*>(h), n * lanes<T>);
  }
}

// A hidden layer's activation over n vectors of z = h: relu and leaky_relu
// write a = g(h) (h, the input, stays: their derivative reads it); tanh and
// sigmoid replace h by g(h) (their derivative reads the output), identity
// leaves h. a may be h; n is a multiple of TV (whole rows). float runs the
// rules on vectors (ops/fast_math's tanh and sigmoid), double on the arrays
// the unfused kernels call.
template <class T>
inline void activate(NetActivation g, double slope, V<T>* h, V<T>* a, std::int64_t n) {
  switch (g) {
    case NetActivation::relu:
      for (std::int64_t i = 0; i < n; ++i) a[i] = act::relu(h[i]);
      break;
    case NetActivation::leaky_relu: {
      const V<T> s = splat(static_cast<T>(slope));
      for (std::int64_t i = 0; i < n; ++i) a[i] = act::leaky_relu(h[i], s);
      break;
    }
    case NetActivation::tanh:
      squash<T>(h, n, [](auto x) { return act::tanh(x); }, [](T* p, std::int64_t k) { act::tanh(p, p, k); });
      break;
    case NetActivation::sigmoid:
      squash<T>(h, n, [](auto x) { return act::sigmoid(x); },
                [](T* p, std::int64_t k) { act::sigmoid(p, p, k); });
      break;
    case NetActivation::identity:
      break;
  }
}

}  // namespace dagrad::ops::net_tile

#pragma GCC diagnostic pop
