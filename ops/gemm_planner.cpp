// The two GEMM libraries, the timing that picks one per shape, and the
// lock-free table the kernel reads the decision from (ops/gemm_planner.hpp).
#include "dagrad/ops/gemm_planner.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include <cblas.h>
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/kernels.hpp"

#ifndef DAGRAD_WITH_ONEDNN
#define DAGRAD_WITH_ONEDNN 0
#endif
#if DAGRAD_WITH_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
// Debian's libdnnl runs on OpenMP, i.e. libgomp: the pool OpenBLAS's GEMMs
// and dagrad's loops already share. A TBB or threadpool build would start a
// second pool beside it (CMakeLists.txt refuses one).
#if DNNL_CPU_RUNTIME != DNNL_RUNTIME_OMP
#error "oneDNN must use the OpenMP runtime (libgomp), the pool OpenBLAS uses"
#endif
#endif

namespace dagrad::ops {

// ---- the libraries ----------------------------------------------------------

namespace {

template <class T>
void openblas_gemm(const Buffer& A, bool ta, const Buffer& B, bool tb, T alpha, T beta,
                   const Buffer& C) {
  const auto M = static_cast<blasint>(C.shape.rows);
  const auto N = static_cast<blasint>(C.shape.cols);
  const auto K = static_cast<blasint>(ta ? A.shape.rows : A.shape.cols);
  const auto lda = static_cast<blasint>(A.shape.cols), ldb = static_cast<blasint>(B.shape.cols);
  const auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, opa, opb, M, N, K, alpha, A.as<float>(), lda, B.as<float>(), ldb,
                beta, C.as<float>(), N);
  else
    cblas_dgemm(CblasRowMajor, opa, opb, M, N, K, alpha, A.as<double>(), lda, B.as<double>(),
                ldb, beta, C.as<double>(), N);
}

// false when oneDNN is absent or refused the call (C is then untouched:
// dnnl_sgemm checks its arguments and allocates before it writes).
bool onednn_sgemm(const Buffer& A, bool ta, const Buffer& B, bool tb, float alpha, float beta,
                  const Buffer& C, int threads) {
#if DAGRAD_WITH_ONEDNN
  // oneDNN sizes its parallel regions by this thread's OpenMP setting;
  // OpenBLAS keeps its own count. Keep them equal (a cheap read, a write only
  // when runtime::set_threads changed the count).
  if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
  const dnnl_dim_t K = ta ? A.shape.rows : A.shape.cols;
  return dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', C.shape.rows, C.shape.cols, K, alpha,
                    A.as<float>(), A.shape.cols, B.as<float>(), B.shape.cols, beta,
                    C.as<float>(), C.shape.cols) == dnnl_success;
#else
  (void)A, (void)ta, (void)B, (void)tb, (void)alpha, (void)beta, (void)C, (void)threads;
  return false;
#endif
}

// ---- the decisions ----------------------------------------------------------

std::atomic<GemmMode> g_mode{GemmMode::auto_select};
std::atomic<std::uint64_t> g_calls[3];  // per GemmLibrary

// Open addressing over a fixed array, so that the kernel's lookup neither
// allocates nor locks: a slot's key and decision are written under the
// planning mutex before `ready` is released; a reader that sees ready == 0
// treats the key as unplanned and goes through plan_gemm, which takes the
// mutex and looks again.
struct Slot {
  std::atomic<bool> ready{false};
  GemmKey key;
  GemmDecision decision;
};
constexpr std::size_t table_slots = 1024;  // a power of two
std::array<Slot, table_slots> g_table;
std::mutex g_planning;

std::size_t key_hash(const GemmKey& k) {
  std::size_t h = static_cast<std::size_t>(k.dtype) | std::size_t(k.trans_a) << 1 |
                  std::size_t(k.trans_b) << 2 | std::size_t(k.threads) << 3;
  for (std::int64_t v : {k.M, k.N, k.K}) h = (h ^ std::size_t(v)) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

const GemmDecision* lookup(const GemmKey& key) {
  for (std::size_t i = 0, s = key_hash(key); i < table_slots; ++i, ++s) {
    const Slot& slot = g_table[s & (table_slots - 1)];
    if (!slot.ready.load(std::memory_order_acquire)) return nullptr;
    if (slot.key == key) return &slot.decision;
  }
  return nullptr;
}

// Under g_planning. False when the table is full.
bool store(const GemmKey& key, const GemmDecision& d) {
  for (std::size_t i = 0, s = key_hash(key); i < table_slots; ++i, ++s) {
    Slot& slot = g_table[s & (table_slots - 1)];
    if (slot.ready.load(std::memory_order_relaxed)) continue;
    slot.key = key;
    slot.decision = d;
    slot.ready.store(true, std::memory_order_release);
    return true;
  }
  return false;
}

bool is_small(const GemmKey& k) { return k.M * k.N * k.K <= small_gemm_limit; }

using Clock = std::chrono::steady_clock;

// Times both libraries on scratch operands of the key's shape, alternated
// call by call after one untimed call each (oneDNN compiles its kernels on
// the first): at least 3 calls each, up to 9 while the whole stays under
// about 40 ms. The best time of each is kept, as the least disturbed by the
// rest of the machine.
GemmDecision time_both(const GemmKey& k) {
  const Shape a = k.trans_a ? Shape{k.K, k.M} : Shape{k.M, k.K};
  const Shape b = k.trans_b ? Shape{k.N, k.K} : Shape{k.K, k.N};
  const Shape c{k.M, k.N};
  std::vector<float> sa(std::size_t(a.size())), sb(std::size_t(b.size())), sc(std::size_t(c.size()));
  for (std::size_t i = 0; i < sa.size(); ++i) sa[i] = float(i % 7) * 0.25f - 0.75f;
  for (std::size_t i = 0; i < sb.size(); ++i) sb[i] = float(i % 5) * 0.25f - 0.5f;
  const Buffer A{sa.data(), a}, B{sb.data(), b}, C{sc.data(), c};
  GemmDecision d{GemmLibrary::openblas, GemmDecision::Why::timed, 0, 0};
  double best[2] = {1e300, 1e300};  // openblas, onednn
  bool failed = false;
  auto run = [&](int lib) {
    const auto t0 = Clock::now();
    if (lib == 1) failed = failed || !onednn_sgemm(A, k.trans_a, B, k.trans_b, 1.0f, 0.0f, C, k.threads);
    else openblas_gemm<float>(A, k.trans_a, B, k.trans_b, 1.0f, 0.0f, C);
    best[lib] = std::min(best[lib], 1e3 * std::chrono::duration<double>(Clock::now() - t0).count());
  };
  run(1);
  run(0);
  best[0] = best[1] = 1e300;  // the first calls only warmed up
  const auto start = Clock::now();
  for (int rep = 0; rep < 9 && !failed; ++rep) {
    if (rep >= 3 && Clock::now() - start > std::chrono::milliseconds(40)) break;
    run(rep % 2);
    run(1 - rep % 2);
  }
  if (failed) return {GemmLibrary::openblas, GemmDecision::Why::onednn_failed, 0, 0};
  d.openblas_ms = best[0];
  d.onednn_ms = best[1];
  // OpenBLAS stays unless oneDNN is clearly faster: a near tie is noise.
  if (d.onednn_ms < 0.97 * d.openblas_ms) d.library = GemmLibrary::onednn;
  return d;
}

GemmDecision decide(const GemmKey& k) {
  using Why = GemmDecision::Why;
  if (is_small(k)) return {GemmLibrary::loop, Why::small, 0, 0};
  const GemmMode mode = g_mode.load(std::memory_order_relaxed);
  if (mode != GemmMode::auto_select) {
    const bool dnnl = mode == GemmMode::onednn && k.dtype == DType::f32;
    return {dnnl ? GemmLibrary::onednn : GemmLibrary::openblas,
            k.dtype == DType::f64 && mode == GemmMode::onednn ? Why::f64 : Why::pinned, 0, 0};
  }
  if (!onednn_built()) return {GemmLibrary::openblas, Why::no_onednn, 0, 0};
  if (k.dtype == DType::f64) return {GemmLibrary::openblas, Why::f64, 0, 0};
  const std::size_t bytes = std::size_t(k.M * k.K + k.K * k.N + k.M * k.N) * sizeof(float);
  if (bytes > plan_scratch_limit) return {GemmLibrary::openblas, Why::too_large, 0, 0};
  return time_both(k);
}

// The library for a GEMM about to run: the hot path.
bool use_onednn(const Buffer& A, bool ta, bool tb, const Buffer& C) {
  switch (g_mode.load(std::memory_order_relaxed)) {
    case GemmMode::openblas: return false;
    case GemmMode::onednn: return true;
    case GemmMode::auto_select: break;
  }
  const GemmKey key{DType::f32, ta, tb, C.shape.rows, C.shape.cols,
                    ta ? A.shape.rows : A.shape.cols, gemm_threads()};
  if (const GemmDecision* d = lookup(key)) return d->library == GemmLibrary::onednn;
  return plan_gemm(key).library == GemmLibrary::onednn;  // a shape not planned: once
}

}  // namespace

template <class T>
void blas_gemm(const Buffer& A, bool ta, const Buffer& B, bool tb, T alpha, T beta,
               const Buffer& C) {
  if constexpr (std::is_same_v<T, float>) {
    if (onednn_built() && use_onednn(A, ta, tb, C) &&
        onednn_sgemm(A, ta, B, tb, alpha, beta, C, gemm_threads())) {
      g_calls[int(GemmLibrary::onednn)].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  openblas_gemm<T>(A, ta, B, tb, alpha, beta, C);
  g_calls[int(GemmLibrary::openblas)].fetch_add(1, std::memory_order_relaxed);
}

template void blas_gemm<float>(const Buffer&, bool, const Buffer&, bool, float, float,
                               const Buffer&);
template void blas_gemm<double>(const Buffer&, bool, const Buffer&, bool, double, double,
                                const Buffer&);

// ---- the public face --------------------------------------------------------

int gemm_threads() { return openblas_get_num_threads(); }

GemmKey gemm_key(DType dtype, Shape a, bool trans_a, Shape b, bool trans_b, int threads) {
  return GemmKey{dtype, trans_a, trans_b, trans_a ? a.cols : a.rows, trans_b ? b.rows : b.cols,
                 trans_a ? a.rows : a.cols, threads};
}

bool onednn_built() { return DAGRAD_WITH_ONEDNN != 0; }

void set_gemm_mode(GemmMode mode) {
  if (mode == GemmMode::onednn && !onednn_built())
    throw InputError("--gemm onednn: this build has no oneDNN (configure with "
                     "-DDAGRAD_WITH_ONEDNN=ON and Debian's libdnnl-dev)");
  g_mode.store(mode, std::memory_order_relaxed);
}

GemmMode gemm_mode() { return g_mode.load(std::memory_order_relaxed); }

GemmMode parse_gemm_mode(std::string_view text) {
  for (GemmMode m : {GemmMode::auto_select, GemmMode::openblas, GemmMode::onednn})
    if (text == gemm_mode_name(m)) return m;
  throw InputError(fmt::format("--gemm {}: expected auto, openblas or onednn", text));
}

std::string_view gemm_mode_name(GemmMode mode) {
  switch (mode) {
    case GemmMode::openblas: return "openblas";
    case GemmMode::onednn: return "onednn";
    case GemmMode::auto_select: break;
  }
  return "auto";
}

GemmDecision plan_gemm(const GemmKey& key) {
  const GemmMode mode = g_mode.load(std::memory_order_relaxed);
  if (mode != GemmMode::auto_select || is_small(key)) return decide(key);
  if (const GemmDecision* d = lookup(key)) return *d;
  const std::lock_guard<std::mutex> lock(g_planning);
  if (const GemmDecision* d = lookup(key)) return *d;  // planned by another thread meanwhile
  const GemmDecision d = decide(key);
  if (!store(key, d)) return {GemmLibrary::openblas, GemmDecision::Why::table_full, 0, 0};
  return d;
}

std::optional<GemmDecision> planned_gemm(const GemmKey& key) {
  if (const GemmDecision* d = lookup(key)) return *d;
  return std::nullopt;
}

std::optional<GemmKey> node_gemm_key(const Graph& graph, NodeId id, int threads, std::int64_t m) {
  const Node& n = graph.node(id);
  if (n.op != OpKind::matmul && n.op != OpKind::matmul_bias) return std::nullopt;
  return gemm_key(n.dtype, graph.node(n.inputs[0]).shape.at(m), n.attrs.trans_a,
                  graph.node(n.inputs[1]).shape.at(m), n.attrs.trans_b, threads);
}

void plan_gemms(const Graph& graph, std::span<const NodeId> schedule, std::int64_t m) {
  const int threads = gemm_threads();
  for (NodeId id : schedule)
    if (const auto key = node_gemm_key(graph, id, threads, m)) plan_gemm(*key);
}

std::string_view library_name(GemmLibrary lib) {
  switch (lib) {
    case GemmLibrary::loop: return "loop";
    case GemmLibrary::onednn: return "onednn";
    case GemmLibrary::openblas: break;
  }
  return "openblas";
}

std::string describe(const GemmDecision& d) {
  using Why = GemmDecision::Why;
  const std::string_view lib = library_name(d.library);
  switch (d.why) {
    case Why::small: return fmt::format("{} (M N K <= {}: no library call)", lib, small_gemm_limit);
    case Why::timed:
      return fmt::format("{} (timed: openblas {:.4g} ms, onednn {:.4g} ms)", lib, d.openblas_ms,
                         d.onednn_ms);
    case Why::pinned: return fmt::format("{} (pinned by --gemm)", lib);
    case Why::no_onednn: return fmt::format("{} (built without oneDNN)", lib);
    case Why::f64: return fmt::format("{} (oneDNN has no f64 GEMM)", lib);
    case Why::onednn_failed: return fmt::format("{} (dnnl_sgemm failed on this shape)", lib);
    case Why::too_large:
      return fmt::format("{} (operands over {} MiB: not timed)", lib, plan_scratch_limit >> 20);
    case Why::table_full: return fmt::format("{} (more than {} shapes: not timed)", lib, table_slots);
  }
  return std::string(lib);
}

std::uint64_t gemm_library_calls(GemmLibrary lib) {
  return g_calls[int(lib)].load(std::memory_order_relaxed);
}

void clear_gemm_plans() {
  const std::lock_guard<std::mutex> lock(g_planning);
  for (Slot& s : g_table) s.ready.store(false, std::memory_order_relaxed);
}

}  // namespace dagrad::ops
