// The inference plan's fused forward pass for narrow nets (every layer, the
// input included, at most ops::net_max_width wide): the samples are cut
// into tiles of ops::net_tile (32 floats or 16 doubles), and a tile's
// values of every layer stay in a small scratch in L1, as in training's
// fused step (ops/fused_net_kernel.cpp), whose tile code it shares
// (ops/net_tile.hpp):
//   per tile:  A[0] = (X - mu) / sigma (the model's normalization, if any)
//              Z[l] = W[l] A[l-1] + b[l],  A[l] = g[l](Z[l]),  l = 1 .. L
//   g[L] may be a softmax over each sample's units.
// Neither the layers' values nor a transposed copy of X reach memory: a
// tile is read from x in either layout and written to y in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dagrad/ops/fused_net.hpp"

namespace dagrad::serve {

struct NarrowLayer {
  const void* W = nullptr;  // (units x fan_in), row-major, the plan's dtype
  const void* b = nullptr;  // (units)
  std::int64_t units = 0, fan_in = 0;
  ops::NetActivation g = ops::NetActivation::identity;
  double slope = 0.01;   // leaky_relu
  bool softmax = false;  // the output layer's softmax (g is then identity)
};

struct NarrowNet {
  std::int64_t inputs = 0;
  std::vector<NarrowLayer> layers;
  std::vector<double> mu, inv_sigma;  // the normalization (x - mu) * (1 / sigma); empty: none
  // Bytes of one caller's scratch (a tile of every layer, aligned).
  std::size_t scratch_bytes(bool f32) const;
};

// y := the net's outputs for the m samples of x, rows layout (x: m x inputs,
// y: m x units) or columns (x: inputs x m, y: units x m), the tiles shared
// over up to `threads` threads (the same bits on any count). `scratch`
// holds `threads` times scratch_bytes(T is float) bytes, owned by the
// caller (one per calling thread).
template <class T>
void narrow_forward(const NarrowNet& net, const T* x, T* y, std::int64_t m, bool rows, unsigned char* scratch,
                    int threads);

}  // namespace dagrad::serve
