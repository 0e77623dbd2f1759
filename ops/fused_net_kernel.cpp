// The fused narrow-net step (ops/fused_net.hpp): the samples are cut into
// tiles of 4 vectors (32 floats or 16 doubles); a tile's values of every
// layer (Z, A, the dropout factors, dZ) live in a small per-thread scratch
// that stays in L1, and the gradients are summed lane by lane across the
// tiles. Nothing but J is written to the plan's memory, and the parameters
// and moments are updated in place once every tile is done.
//
// Sums are made in a fixed order whatever the thread count: the tiles of a
// block of 256 samples in order, then the blocks in order (blocks are what
// threads share out), so 1 and 2 threads give the same bits.
//
// Every formula is the unfused ops': the activations and their derivatives
// come from ops/activation_rule.hpp, the costs' terms and gradients from
// ops/cost_rule.hpp, and the divisor is theirs (batch_of). This file keeps
// the tiling and the schedule. float runs the rules on GCC vector types,
// with the transcendentals of ops/fast_math.hpp (a few ulp); double on the
// vecmath arrays the unfused kernels call, so in f64 the fused step differs
// from the unfused one only in the order of its sums.

// NOTE: -Wpsabi warns that 32-byte vector arguments change the calling
// convention without -mavx; every function here is inlined into one caller.
// GCC's separate note on the 32-byte ABI ignores the pragma: CMakeLists.txt
// builds this file with -Wno-psabi.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/activation_rule.hpp"
#include "dagrad/ops/cost_rule.hpp"
#include "dagrad/ops/dropout_bits.hpp"
#include "dagrad/ops/fast_math.hpp"
#include "dagrad/ops/fused_net.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/labels.hpp"
#include "dagrad/ops/net_tile.hpp"
#include "dagrad/ops/update_rule.hpp"

namespace dagrad::ops {

namespace {

using namespace net_tile;  // the tile and its forward maths: ops/net_tile.hpp

constexpr std::int64_t block_samples = 256;

// The workspace of `blocks` blocks of P gradient sums: a double cost each,
// then their sums.
template <class T>
std::size_t block_workspace(std::int64_t blocks, std::int64_t P) {
  return static_cast<std::size_t>(blocks) * (sizeof(double) + static_cast<std::size_t>(P) * sizeof(T));
}

// Whether a hidden layer's A needs rows of its own: tanh and sigmoid
// without dropout keep g(z) in h, which is then A as well.
inline bool own_rows(const NetLayer& ly) {
  return ly.keep_prob < 1.0 || ly.activation == NetActivation::relu ||
         ly.activation == NetActivation::leaky_relu;
}

// One worker's tile: every layer's rows of TV vectors, and the lane sums of
// every parameter's gradient in operand order (W1, b1, W2, b2, ...).
template <class T>
struct Tile {
  // NOTE: not std::vector<V<T>>: GCC drops a vector type's alignment when
  // it is a template argument, so the allocator gave 16-byte memory where
  // the kernel's aligned loads need 32. The vectors start at the first
  // 64-byte boundary of plain bytes.
  std::vector<unsigned char> buf;
  V<T>* a[net_max_depth + 1];  // a[0] X, a[l] layer l's output (after dropout), a[L] Z[L]
  V<T>* h[net_max_depth];      // l < L: z (relu, leaky_relu) or g(z) (tanh, sigmoid)
  V<T>* d[net_max_depth];      // l < L with dropout: D / keep_prob
  V<T>* dz[2];
  V<T>* y;
  V<T>* valid;                 // 1 for the tile's samples, 0 for its padding
  std::int64_t valid_count = -1;  // the sample count `valid` was written for
  V<T>* acc;
  std::int64_t acc_size = 0;

  void lay_out(const FusedNet& net) {
    const int L = net.depth();
    std::int64_t rows = net.inputs + 2 * net_max_width + net.layers.back().units + 1, params = 0;
    std::int64_t n_prev = net.inputs;
    for (int l = 0; l < L; ++l) {
      const NetLayer& ly = net.layers[std::size_t(l)];
      rows += 3 * ly.units;
      params += ly.units * (n_prev + 1);
      n_prev = ly.units;
    }
    acc_size = params;
    valid_count = -1;
    const std::size_t vectors = static_cast<std::size_t>(rows * TV + params);
    constexpr std::size_t align = 64;  // a cache line (NOTE: alignof(V<T>) may say 8 here)
    buf.assign(vectors * sizeof(V<T>) + align, 0);
    void* start = buf.data();
    std::size_t space = buf.size();
    V<T>* p = static_cast<V<T>*>(std::align(align, vectors * sizeof(V<T>), start, space));
    auto take = [&](std::int64_t r) {
      V<T>* q = p;
      p += r * TV;
      return q;
    };
    a[0] = take(net.inputs);
    for (int l = 1; l <= L; ++l) {
      const NetLayer& ly = net.layers[std::size_t(l - 1)];
      a[l] = take(ly.units);
      if (l == L) break;
      h[l] = take(ly.units);
      d[l] = take(ly.units);
      if (!own_rows(ly)) a[l] = h[l];
    }
    dz[0] = take(net_max_width);
    dz[1] = take(net_max_width);
    y = take(net.layers.back().units);
    valid = take(1);
    acc = p;
  }
};

template <class T>
class Step {
 public:
  explicit Step(const KernelCall& c);
  void run();

 private:
  using Vt = V<T>;
  using D = typename Vec<T>::D;
  static constexpr std::int64_t TS = tile_samples<T>;

  void sweep_block(std::int64_t b, Tile<T>& t, T* partial, double* cost) const;
  void load(Tile<T>& t, std::int64_t j0, std::int64_t count) const;
  void draw_masks(Tile<T>& t, int l, std::int64_t j0, std::int64_t count) const;
  void forward(Tile<T>& t) const;
  void activate(Tile<T>& t, int l) const;
  Vt output(Tile<T>& t) const;
  Vt softmax_output(Tile<T>& t) const;
  void backward(Tile<T>& t) const;
  void derivative(Tile<T>& t, int l, Vt* g) const;
  void gradients(T* G);
  void update(const T* G);

  const KernelCall& c_;
  const FusedNet& net_;
  FusedStage stage_;
  int L_;
  std::int64_t m_;
  double divisor_;  // the 1/m's m: the ops' cost_divisor
  std::int64_t n_[net_max_depth + 1];
  T* W_[net_max_depth];
  T* b_[net_max_depth];
  const T* X_;
  const T* Y_;
  bool dropout_[net_max_depth] = {};
  std::uint64_t threshold_[net_max_depth] = {};
  T inv_keep_[net_max_depth] = {};
  std::int64_t offset_[net_max_depth + 1];  // layer l's gradient lanes in Tile::acc: W, then b
};

template <class T>
Step<T>::Step(const KernelCall& c)
    : c_(c), net_(*c.node.attr<FusedNetAttrs>().net), stage_(c.node.attr<FusedNetAttrs>().stage),
      L_(net_.depth()) {
  if (stage_ == FusedStage::update) {  // reads G, not the samples
    X_ = Y_ = nullptr;
    m_ = 0;
    divisor_ = 0;
  } else {
    const std::size_t xs = net_.x_slot(stage_);
    X_ = c.in[xs].as<T>();
    Y_ = c.in[xs + 1].as<T>();
    m_ = c.in[xs].shape.cols;
    // As cost_divisor (ops/op.hpp): the batch's sample count (batch_of, the
    // global batch of a data-parallel run) when X's columns are the samples m.
    divisor_ = c.graph.node(c.node.inputs[xs]).shape.cols == m_dim ? double(batch_of(c.run))
                                                                   : double(m_);
  }
  n_[0] = net_.inputs;
  offset_[0] = 0;
  for (int l = 1; l <= L_; ++l) {
    const NetLayer& ly = net_.layers[std::size_t(l - 1)];
    n_[l] = ly.units;
    W_[l - 1] = c.in[std::size_t(2 * (l - 1))].as<T>();
    b_[l - 1] = c.in[std::size_t(2 * (l - 1) + 1)].as<T>();
    offset_[l] = offset_[l - 1] + n_[l] * (n_[l - 1] + 1);
    if (l < L_ && c.run.training && ly.keep_prob < 1.0) {
      dropout_[l] = true;
      threshold_[l] = dropout_threshold(ly.keep_prob);
      inv_keep_[l] = static_cast<T>(1.0 / ly.keep_prob);
    }
  }
}

// X's and Y's columns j0 .. j0+count into the tile, zero-padded.
template <class T>
void Step<T>::load(Tile<T>& t, std::int64_t j0, std::int64_t count) const {
  const bool full = count == TS;
  auto rows = [&](const T* src, std::int64_t n, Vt* dst) {
    T* out = reinterpret_cast<T*>(dst);
    for (std::int64_t r = 0; r < n; ++r) {
      if (full) {  // a constant size: a few vector moves, not a memmove call
        std::memcpy(out + r * TS, src + r * m_ + j0, sizeof(T) * TS);
        continue;
      }
      std::copy_n(src + r * m_ + j0, count, out + r * TS);
      std::fill(out + r * TS + count, out + (r + 1) * TS, T(0));
    }
  };
  rows(X_, n_[0], t.a[0]);
  rows(Y_, n_[L_], t.y);
  // The padding lanes' mask, rewritten only when the count changes.
  if (count != t.valid_count) {
    T* v = reinterpret_cast<T*>(t.valid);
    for (std::int64_t j = 0; j < TS; ++j) v[j] = j < count ? T(1) : T(0);
    t.valid_count = count;
  }
  for (int l = 1; l < L_; ++l)
    if (dropout_[l]) draw_masks(t, l, j0, count);
}

// Layer l's factors D / keep_prob for the tile's samples, keyed as
// ops/dropout_mask.cpp keys them: by row and by the sample's data set index.
template <class T>
void Step<T>::draw_masks(Tile<T>& t, int l, std::int64_t j0, std::int64_t count) const {
  T* d = reinterpret_cast<T*>(t.d[l]);
  const std::int64_t rows = n_[l];
  const bool by_index = static_cast<std::int64_t>(c_.run.samples.size()) == m_;
  const DropoutKey key = dropout_key(net_.layers[std::size_t(l - 1)].seed, c_.run.step);
  for (std::int64_t j = 0; j < TS; ++j) {
    if (j >= count) {
      for (std::int64_t r = 0; r < rows; ++r) d[r * TS + j] = T(0);
      continue;
    }
    const auto sample = static_cast<std::uint64_t>(
        by_index ? c_.run.samples[static_cast<std::size_t>(j0 + j)] : j0 + j);
    for (std::int64_t r = 0; r < rows; r += 4) {
      const auto words = dropout_words(key, sample, r / 4);
      for (std::int64_t k = 0; k < 4 && r + k < rows; ++k)
        d[(r + k) * TS + j] = words[std::size_t(k)] < threshold_[l] ? inv_keep_[l] : T(0);
    }
  }
}

template <class T>
void Step<T>::forward(Tile<T>& t) const {
  for (int l = 1; l <= L_; ++l) {
    Vt* z = l == L_ ? t.a[L_] : t.h[l];
    with_width(n_[l - 1], [&](auto NI) {
      with_width(n_[l], [&](auto NO) {
        affine_rows<T, NI, NO>(W_[l - 1], b_[l - 1], t.a[l - 1], z, n_[l], n_[l - 1]);
      });
    });
    if (l < L_) activate(t, l);
  }
}

// h[l] = z becomes g(z) for tanh and sigmoid; a[l] = g(z) (* D / keep_prob).
template <class T>
void Step<T>::activate(Tile<T>& t, int l) const {
  const NetLayer& ly = net_.layers[std::size_t(l - 1)];
  const std::int64_t n = n_[l] * TV;
  Vt* h = t.h[l];
  Vt* a = t.a[l];
  net_tile::activate<T>(ly.activation, ly.slope, h, a, n);
  if (!dropout_[l]) return;
  const Vt* d = t.d[l];
  const Vt* g = ly.activation == NetActivation::relu || ly.activation == NetActivation::leaky_relu
                    ? a
                    : h;
  for (std::int64_t i = 0; i < n; ++i) a[i] = g[i] * d[i];
}

// The output layer: dZ[L] = A[L] - Y (0 for padding) into dz[0], and the
// sum of the tile's cost terms (0 for padding) lane by lane, which
// sweep_block adds in double to the block's compensated sum
// (CompensatedSum4, as the unfused cost kernels sum their terms:
// ops/bce_logits.cpp). A lane's few terms of a tile are summed in T first:
// a few ulps of the tile's sum in f32, not of the running total.
template <class T>
typename Step<T>::Vt Step<T>::output(Tile<T>& t) const {
  const std::int64_t K = n_[L_], n = K * TV;
  const Vt* z = t.a[L_];
  const Vt* y = t.y;
  const Vt* valid = t.valid;
  Vt* dz = t.dz[0];
  Vt part{};
  switch (net_.cost) {
    case NetCost::bce_logits: {
      if constexpr (std::is_same_v<T, float>) {
        // A row's TV vectors side by side (as tanh), their terms then
        // summed in order.
        for (std::int64_t i = 0; i < n; i += TV) {
          Vt term[TV];
          for (int v = 0; v < TV; ++v) {
            const act::SigmoidF32x8 s = act::sigmoid_parts(z[i + v]);
            dz[i + v] = costs::output_delta(s.y, y[i + v]) * valid[v];
            term[v] = costs::bce_logits_term(z[i + v], y[i + v], costs::log1p_tail(s)) * valid[v];
          }
          for (int v = 0; v < TV; ++v) part += term[v];
        }
      } else {
        Vt* tail = t.dz[1];
        act::sigmoid(reinterpret_cast<const T*>(z), reinterpret_cast<T*>(dz), n * lanes<T>);
        costs::log1p_tail(reinterpret_cast<const T*>(z), reinterpret_cast<T*>(tail), n * lanes<T>);
        for (std::int64_t i = 0; i < n; ++i) {
          const Vt ok = valid[i % TV];
          dz[i] = costs::output_delta(dz[i], y[i]) * ok;
          part += costs::bce_logits_term(z[i], y[i], tail[i]) * ok;
        }
      }
      break;
    }
    case NetCost::softmax_ce:
      part = softmax_output(t);
      break;
    case NetCost::mse:
      for (std::int64_t i = 0; i < n; ++i) {
        const Vt ok = valid[i % TV];
        dz[i] = costs::output_delta(z[i], y[i]) * ok;
        part += costs::mse_term(z[i], y[i]) * ok;
      }
      break;
  }
  return part;
}

// Softmax over the K rows of each sample: dZ = softmax(z) - Y, cost terms
// -y_k ((z_k - max) - log sum_j e^(z_j - max)).
template <class T>
typename Step<T>::Vt Step<T>::softmax_output(Tile<T>& t) const {
  const std::int64_t K = n_[L_];
  const Vt* z = t.a[L_];
  const Vt* y = t.y;
  Vt* dz = t.dz[0];
  Vt part{};
  for (int v = 0; v < TV; ++v) {
    const Vt ok = t.valid[v];
    const Vt top = act::column_max(z + v, K, TV);
    Vt total{}, log_total;
    if constexpr (std::is_same_v<T, float>) {
      for (std::int64_t k = 0; k < K; ++k) total += dz[k * TV + v] = act::softmax_exp(z[k * TV + v], top);
      log_total = costs::log_total(total);
    } else {  // lane by lane: std::exp and std::log, as the unfused kernels
      for (std::int64_t k = 0; k < K; ++k)
        for (int j = 0; j < lanes<T>; ++j)
          total[j] += dz[k * TV + v][j] = act::softmax_exp(z[k * TV + v][j], top[j]);
      for (int j = 0; j < lanes<T>; ++j) log_total[j] = costs::log_total(total[j]);
    }
    for (std::int64_t k = 0; k < K; ++k) {
      const std::int64_t i = k * TV + v;
      dz[i] = costs::output_delta(dz[i] / total, y[i]) * ok;
      part -= costs::softmax_ce_term(z[i] - top, y[i], log_total) * ok;
    }
  }
  return part;
}

// dZ[l-1] = (W[l]^T dZ[l]) * D / keep_prob * g'(Z[l-1]), layer by layer
// from the output, summing dW and db lane by lane.
template <class T>
void Step<T>::backward(Tile<T>& t) const {
  int cur = 0;
  for (int l = L_; l >= 1; --l) {
    const Vt* dz = t.dz[cur];
    const Vt* ap = t.a[l - 1];
    Vt* gw = t.acc + offset_[l - 1];
    Vt* next = t.dz[1 - cur];
    const T* W = W_[l - 1];
    with_width(n_[l - 1], [&](auto NI) { with_width(n_[l], [&](auto NO) {
      const std::int64_t n_out = NO > 0 ? std::int64_t{NO} : n_[l], n_in = NI > 0 ? std::int64_t{NI} : n_[l - 1];
      Vt* gb = gw + n_out * n_in;
      for (std::int64_t i = 0; i < n_out; ++i) {
        const Vt* g = dz + i * TV;
        gb[i] += (g[0] + g[1]) + (g[2] + g[3]);
        for (std::int64_t k = 0; k < n_in; ++k) {
          const Vt* x = ap + k * TV;
          gw[i * n_in + k] += (g[0] * x[0] + g[1] * x[1]) + (g[2] * x[2] + g[3] * x[3]);
        }
      }
      if (l == 1) return;
      for (std::int64_t k = 0; k < n_in; ++k) {
        Vt s[TV] = {};
        for (std::int64_t i = 0; i < n_out; ++i) {
          const Vt w = splat(W[i * n_in + k]);
          for (int v = 0; v < TV; ++v) s[v] += w * dz[i * TV + v];
        }
        for (int v = 0; v < TV; ++v) next[k * TV + v] = s[v];
      }
    }); });
    if (l == 1) break;
    derivative(t, l - 1, next);
    cur = 1 - cur;
  }
}

// g = dA[l] becomes dZ[l]: through the dropout factors, then g'(Z[l]) as
// the unfused step_mul, tanh_grad_mul and sigmoid_grad_mul write it.
template <class T>
void Step<T>::derivative(Tile<T>& t, int l, Vt* g) const {
  const NetLayer& ly = net_.layers[std::size_t(l - 1)];
  const std::int64_t n = n_[l] * TV;
  const Vt* h = t.h[l];
  if (dropout_[l])
    for (std::int64_t i = 0; i < n; ++i) g[i] = g[i] * t.d[l][i];
  switch (ly.activation) {
    case NetActivation::relu:
      for (std::int64_t i = 0; i < n; ++i) g[i] = act::step_grad(g[i], h[i], Vt{});
      break;
    case NetActivation::leaky_relu: {
      const Vt slope = splat(static_cast<T>(ly.slope));
      for (std::int64_t i = 0; i < n; ++i) g[i] = act::step_grad(g[i], h[i], slope);
      break;
    }
    case NetActivation::tanh:
      for (std::int64_t i = 0; i < n; ++i) g[i] = act::tanh_grad(g[i], h[i]);
      break;
    case NetActivation::sigmoid:
      for (std::int64_t i = 0; i < n; ++i) g[i] = act::sigmoid_grad(g[i], h[i]);
      break;
    case NetActivation::identity:
      break;
  }
}

template <class T>
T lane_sum(V<T> v) {
  T s = v[0];
  for (int j = 1; j < lanes<T>; ++j) s += v[j];
  return s;
}

// One block's tiles in order; its gradient sums and cost into partial and cost.
template <class T>
void Step<T>::sweep_block(std::int64_t b, Tile<T>& t, T* partial, double* cost) const {
  std::fill_n(t.acc, t.acc_size, Vt{});
  CompensatedSum4 c;
  const std::int64_t end = std::min(m_, (b + 1) * block_samples);
  for (std::int64_t j0 = b * block_samples; j0 < end; j0 += TS) {
    load(t, j0, std::min(TS, end - j0));
    forward(t);
    const D part = __builtin_convertvector(output(t), D);
    double lanes_d[sizeof(D) / sizeof(double)];
    std::memcpy(lanes_d, &part, sizeof part);
    c.add(lanes_d, std::int64_t(sizeof(D) / sizeof(double)));
    backward(t);
  }
  for (std::int64_t p = 0; p < t.acc_size; ++p) partial[p] = lane_sum<T>(t.acc[p]);
  *cost = c.value();
}

// The worker thread's tile, laid out again only for another network shape
// (the widths and which layers own their A rows).
template <class T>
Tile<T>& worker_tile(const FusedNet& net) {
  // The shape as a fixed array: comparing it allocates nothing per step.
  using Shape = std::array<std::int64_t, net_max_depth + 2>;
  static thread_local Tile<T> tile;
  static thread_local Shape shape{-1};
  Shape want{};
  want[0] = net.inputs;
  want[1] = std::int64_t(net.layers.size());
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    want[l + 2] = 2 * net.layers[l].units + (own_rows(net.layers[l]) ? 1 : 0);
  if (want != shape) {
    tile.lay_out(net);
    shape = want;
  }
  return tile;
}

// The stage's part of the step (ops/fused_net.hpp): G, then the update
// from G (summed over the processes between the two in a data-parallel step).
template <class T>
void Step<T>::run() {
  switch (stage_) {
    case FusedStage::gradients:
      gradients(c_.out.as<T>());
      return;
    case FusedStage::update:
      update(c_.in[net_.g_slot()].as<T>());
      return;
    case FusedStage::step: {
      static thread_local std::vector<T> G;
      G.resize(static_cast<std::size_t>(offset_[L_] + 1));
      gradients(G.data());
      update(G.data());
      return;
    }
  }
}

// G = [1/m sum dW1, 1/m sum db1, ..., 1/m sum of the cost terms], the
// gradients in Tile::acc's order (each layer's W row-major, then its b).
template <class T>
void Step<T>::gradients(T* G) {
  const std::size_t ys = net_.x_slot(stage_) + 1;
  if (net_.cost == NetCost::bce_logits) check_binary_labels<T>(c_, c_.in[ys], ys);
  if (net_.cost == NetCost::softmax_ce) check_label_columns<T>(c_, c_.in[ys], ys);
  const std::int64_t blocks = (m_ + block_samples - 1) / block_samples;
  const std::int64_t P = offset_[L_];
  // Each block's cost, then its gradient sums: the plan's workspace.
  if (c_.workspace.size() < block_workspace<T>(blocks, P))
    throw GraphError(fmt::format("fused_net: the plan gave {} bytes of workspace for {} blocks",
                                 c_.workspace.size(), blocks));
  double* const block_cost = reinterpret_cast<double*>(c_.workspace.data());
  T* const part = reinterpret_cast<T*>(block_cost + blocks);
  // Threads only for work worth a fork (about a microsecond).
  double flops = 0;
  for (int l = 1; l <= L_; ++l) flops += 6.0 * double(n_[l] * n_[l - 1]) * double(m_);
  const int threads = flops >= 4e6 ? c_.run.threads : 1;
  // NOTE: an exception must not leave an OpenMP region (the process would
  // terminate): a worker whose tile cannot be allocated says so, and the
  // calling thread throws once the region is over.
  std::atomic<bool> out_of_memory{false};
  parallel_for(threads, blocks, [&](std::int64_t b0, std::int64_t b1) {
    Tile<T>* t = nullptr;
    try {
      t = &worker_tile<T>(net_);
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
      return;
    }
    with_simd([&] {
      for (std::int64_t b = b0; b < b1; ++b) sweep_block(b, *t, part + b * P, block_cost + b);
    });
  }, 1, 1);
  if (out_of_memory) throw std::bad_alloc();
  std::fill_n(G, P, T(0));
  for (std::int64_t b = 0; b < blocks; ++b) {
    const T* sums = part + b * P;
    for (std::int64_t p = 0; p < P; ++p) G[p] += sums[p];
  }
  const T inv_m = static_cast<T>(1.0 / divisor_);
  for (std::int64_t p = 0; p < P; ++p) G[p] = inv_m * G[p];
  CompensatedSum4 cost;
  cost.add(block_cost, blocks);
  double cost_sum = cost.value();
  if (net_.cost == NetCost::mse) cost_sum *= costs::mse_factor;
  G[P] = static_cast<T>(cost_sum / divisor_);
}

// J, then dW = G's 1/m sum (+ lambda/m W) and the optimizer's step of every
// parameter and its moments, as the unfused update nodes compute them.
template <class T>
void Step<T>::update(const T* G) {
  // As ops/l2_penalty.cpp: its own count, or the batch's (batch_of).
  const double count = double(net_.l2_count == m_dim ? batch_of(c_.run) : net_.l2_count);
  T J = G[offset_[L_]];
  if (net_.lambda > 0) {
    long double squares = 0.0L;
    for (int l = 0; l < L_; ++l)
      for (std::int64_t i = 0; i < n_[l + 1] * n_[l]; ++i) squares += costs::l2_term(double(W_[l][i]));
    J += static_cast<T>(costs::l2_factor(net_.lambda, count) * squares);
  }
  c_.out.as<T>()[0] = J;
  const std::size_t as = net_.alpha_slot(stage_);
  const T alpha = c_.in[as].as<T>()[0];
  UpdateCoeffs<T> k{alpha, {T(1), T(1), T(1)}, static_cast<T>(net_.beta1), static_cast<T>(net_.beta2),
                    static_cast<T>(net_.epsilon)};
  for (int i = 0; i < net_.rule->step_scalars; ++i) k.step[i] = c_.in[as + 1 + std::size_t(i)].as<T>()[0];
  const T l2 = static_cast<T>(net_.lambda / count);
  static thread_local std::vector<T> grad;
  const std::size_t params = 2 * std::size_t(L_), moments = std::size_t(net_.moments());
  for (std::size_t p = 0; p < params; ++p) {
    T* w = c_.in[p].as<T>();
    const std::int64_t n = c_.in[p].shape.size();
    const T* dw = G + offset_[p / 2] + (p % 2 ? n_[p / 2 + 1] * n_[p / 2] : 0);
    grad.resize(static_cast<std::size_t>(n));
    const bool decay = p % 2 == 0 && net_.lambda > 0;
    for (std::int64_t i = 0; i < n; ++i)
      grad[std::size_t(i)] = decay ? dw[i] + costs::l2_grad(l2, w[i]) : dw[i];
    T* v = moments ? c_.in[params + p * moments].as<T>() : nullptr;
    T* s2 = moments == 2 ? c_.in[params + p * moments + 1].as<T>() : nullptr;
    apply<T>(*net_.rule, {w, v, s2, grad.data(), n}, k);
  }
}

}  // namespace

template <class T>
void fused_net_step(const KernelCall& c) {
  Step<T>(c).run();
}
template void fused_net_step<float>(const KernelCall&);
template void fused_net_step<double>(const KernelCall&);

std::size_t fused_net_workspace(const Graph& g, const Node& n, std::int64_t m) {
  const FusedNetAttrs& attrs = n.attr<FusedNetAttrs>();
  if (!attrs.net || attrs.stage == FusedStage::update) return 0;  // refused by the shape rule; reads G
  const FusedNet& net = *attrs.net;
  const std::int64_t cols = g.node(n.inputs[net.x_slot(attrs.stage)]).shape.at(m).cols;
  const std::int64_t blocks = (cols + block_samples - 1) / block_samples, P = net.parameters();
  return n.dtype == DType::f32 ? block_workspace<float>(blocks, P) : block_workspace<double>(blocks, P);
}

}  // namespace dagrad::ops
