#include "dagrad/serve/narrow_forward.hpp"

// NOTE: -Wpsabi warns that 32-byte vector arguments change the calling
// convention without -mavx; the tile's vectors never cross a call here
// (CMakeLists.txt builds this file with -Wno-psabi, as the training kernel).
#pragma GCC diagnostic ignored "-Wpsabi"

#include <algorithm>
#include <memory>

#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/net_tile.hpp"
#include "dagrad/ops/parallel.hpp"

namespace dagrad::serve {

namespace {

using namespace ops::net_tile;

constexpr std::size_t scratch_align = 64;  // a cache line

template <class T>
std::int64_t tile_rows(const NarrowNet& net) {
  std::int64_t rows = net.inputs;
  for (const NarrowLayer& l : net.layers) rows += l.units;
  return rows;
}

// Softmax over the K rows of each of the tile's samples, in place:
//   y_k = e^(z_k - top) / sum_j e^(z_j - top),  top = max_j z_j
// as ops/softmax.cpp, from the same rules; float on vectors
// (fast::exp_neg, a float sum), double lane by lane (std::exp, the sum).
template <class T>
void softmax_tile(V<T>* z, std::int64_t K) {
  for (int v = 0; v < TV; ++v) {
    const V<T> top = ops::act::column_max(z + v, K, TV);
    if constexpr (std::is_same_v<T, float>) {
      V<T> total{};
      for (std::int64_t k = 0; k < K; ++k) total += z[k * TV + v] = ops::act::softmax_exp(z[k * TV + v], top);
      for (std::int64_t k = 0; k < K; ++k) z[k * TV + v] /= total;
    } else {
      for (int j = 0; j < lanes<T>; ++j) {
        T total = 0;
        for (std::int64_t k = 0; k < K; ++k) total += z[k * TV + v][j] = ops::act::softmax_exp(z[k * TV + v][j], top[j]);
        for (std::int64_t k = 0; k < K; ++k) z[k * TV + v][j] /= total;
      }
    }
  }
}

}  // namespace

std::size_t NarrowNet::scratch_bytes(bool f32) const {
  const std::size_t vec = f32 ? sizeof(V<float>) : sizeof(V<double>);
  const auto rows = static_cast<std::size_t>(f32 ? tile_rows<float>(*this) : tile_rows<double>(*this));
  return rows * TV * vec + scratch_align;
}

namespace {

// Below this many samples per thread a second thread costs more than it
// saves (a fork-join is about a microsecond; 512 samples of 4-16-3 about 6).
constexpr std::int64_t narrow_grain = 512;

// The tiles of samples [s_begin, s_end) (s_begin a multiple of the tile).
template <class T>
void run_tiles(const NarrowNet& net, const T* x, T* y, std::int64_t m, bool rows, std::int64_t s_begin,
               std::int64_t s_end, unsigned char* scratch) {
  constexpr std::int64_t TS = tile_samples<T>;
  void* start = scratch;
  std::size_t space = net.scratch_bytes(std::is_same_v<T, float>);
  const std::size_t need = space - scratch_align;
  V<T>* a0 = static_cast<V<T>*>(std::align(scratch_align, need, start, space));
  const std::int64_t n = net.inputs, L = static_cast<std::int64_t>(net.layers.size());
  const std::int64_t K = net.layers.back().units;
  const bool norm = !net.mu.empty();
  ops::with_simd([&] {  // AVX2 where the CPU has it, as the training kernel
  for (std::int64_t s0 = s_begin; s0 < s_end; s0 += TS) {
    const std::int64_t count = std::min(TS, s_end - s0);
    // X's samples s0 .. s0+count into the tile's rows, normalized, padded with 0.
    T* in = reinterpret_cast<T*>(a0);
    for (std::int64_t j = 0; j < n; ++j) {
      const double mu = norm ? net.mu[std::size_t(j)] : 0.0, inv = norm ? net.inv_sigma[std::size_t(j)] : 1.0;
      for (std::int64_t s = 0; s < count; ++s) {
        const T v = rows ? x[(s0 + s) * n + j] : x[j * m + s0 + s];
        in[j * TS + s] = norm ? static_cast<T>((static_cast<double>(v) - mu) * inv) : v;
      }
      std::fill(in + j * TS + count, in + (j + 1) * TS, T(0));
    }
    V<T>* a = a0;
    V<T>* z = a0 + n * TV;
    for (std::int64_t l = 0; l < L; ++l) {
      const NarrowLayer& ly = net.layers[std::size_t(l)];
      affine_rows<T>(static_cast<const T*>(ly.W), static_cast<const T*>(ly.b), a, z, ly.units, ly.fan_in);
      if (ly.softmax) softmax_tile<T>(z, ly.units);
      else activate<T>(ly.g, ly.slope, z, z, ly.units * TV);
      a = z;
      z += ly.units * TV;
    }
    const T* out = reinterpret_cast<const T*>(a);
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t s = 0; s < count; ++s) (rows ? y[(s0 + s) * K + k] : y[k * m + s0 + s]) = out[k * TS + s];
  }
  });
}

}  // namespace

template <class T>
void narrow_forward(const NarrowNet& net, const T* x, T* y, std::int64_t m, bool rows, unsigned char* scratch,
                    int threads) {
  // Tiles are independent: any split over threads gives the same bits.
  const std::size_t bytes = net.scratch_bytes(std::is_same_v<T, float>);
  const int parts = ops::parallel_parts(threads, m, narrow_grain);
  if (parts <= 1) return run_tiles<T>(net, x, y, m, rows, 0, m, scratch);
  DAGRAD_OMP(omp parallel for num_threads(parts) schedule(static, 1))
  for (int k = 0; k < parts; ++k) {
    const ops::Range r = ops::parallel_range(m, parts, k, tile_samples<T>);
    run_tiles<T>(net, x, y, m, rows, r.begin, r.end, scratch + std::size_t(k) * bytes);
  }
}

template void narrow_forward<float>(const NarrowNet&, const float*, float*, std::int64_t, bool, unsigned char*,
                                    int);
template void narrow_forward<double>(const NarrowNet&, const double*, double*, std::int64_t, bool,
                                     unsigned char*, int);

}  // namespace dagrad::serve
