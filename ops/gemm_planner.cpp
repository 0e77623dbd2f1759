// The two GEMM libraries, the split of a product into panels, and the rule
// that picks a library per shape (ops/gemm_planner.hpp).
#include "dagrad/ops/gemm_planner.hpp"

#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#include <cblas.h>
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/ops/gemm_progress.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/parallel.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif
#ifndef DAGRAD_WITH_ONEDNN
#define DAGRAD_WITH_ONEDNN 0
#endif
#if DAGRAD_WITH_ONEDNN
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

// c (m x n, row-major, leading dimension ldc) = alpha op(a) op(b) + beta c.
template <class T>
void openblas_gemm(const T* a, bool ta, const T* b, bool tb, std::int64_t m, std::int64_t n,
                   std::int64_t k, std::int64_t lda, std::int64_t ldb, std::int64_t ldc, T alpha,
                   T beta, T* c) {
  const auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  const auto M = static_cast<blasint>(m), N = static_cast<blasint>(n), K = static_cast<blasint>(k);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, opa, opb, M, N, K, alpha, a, blasint(lda), b, blasint(ldb), beta,
                c, blasint(ldc));
  else
    cblas_dgemm(CblasRowMajor, opa, opb, M, N, K, alpha, a, blasint(lda), b, blasint(ldb), beta,
                c, blasint(ldc));
}

// The same on oneDNN; false when oneDNN is absent or refused the call (c is
// then untouched: dnnl_sgemm checks its arguments and allocates before it
// writes).
bool onednn_sgemm(const float* a, bool ta, const float* b, bool tb, std::int64_t m, std::int64_t n,
                  std::int64_t k, std::int64_t lda, std::int64_t ldb, std::int64_t ldc,
                  float alpha, float beta, float* c) {
#if DAGRAD_WITH_ONEDNN
  return dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c,
                    ldc) == dnnl_success;
#else
  (void)a, (void)ta, (void)b, (void)tb, (void)m, (void)n, (void)k, (void)lda, (void)ldb,
      (void)ldc, (void)alpha, (void)beta, (void)c;
  return false;
#endif
}

// One library call c (m x n) = alpha op(a) op(b) + beta c on `lib`, on this
// thread alone.
template <class T>
void library_call(GemmLibrary lib, const T* a, bool ta, const T* b, bool tb, std::int64_t m,
                  std::int64_t n, std::int64_t k, std::int64_t lda, std::int64_t ldb,
                  std::int64_t ldc, T alpha, T beta, T* c) {
#if defined(_OPENMP)
  // Inside this loop's parallel region the setting is this part's task's
  // own: a team of one thread is not "in parallel" for OpenBLAS and oneDNN,
  // which would otherwise start the process's thread count under it.
  if (omp_get_max_threads() != 1) omp_set_num_threads(1);
#endif
  if constexpr (std::is_same_v<T, float>)
    if (lib == GemmLibrary::onednn && onednn_sgemm(a, ta, b, tb, m, n, k, lda, ldb, ldc, alpha, beta, c))
      return;
  openblas_gemm<T>(a, ta, b, tb, m, n, k, lda, ldb, ldc, alpha, beta, c);
}

// One panel: the rows [b, e) of C (cut by rows) or its columns [b, e),
// with the rows of op(A) or the columns of op(B) they need.
template <class T>
void gemm_panel(GemmLibrary lib, const Buffer& A, bool ta, const Buffer& B, bool tb, T alpha,
                T beta, const Buffer& C, bool by_rows, std::int64_t b, std::int64_t e) {
  const std::int64_t K = ta ? A.shape.rows : A.shape.cols;
  const std::int64_t lda = A.shape.cols, ldb = B.shape.cols, ldc = C.shape.cols;
  const T* a = A.as<T>();
  const T* bp = B.as<T>();
  T* c = C.as<T>();
  std::int64_t m = C.shape.rows, n = C.shape.cols;
  if (by_rows) {  // rows b.. of op(A): columns of A when transposed
    a += ta ? b : b * lda;
    c += b * ldc;
    m = e - b;
  } else {  // columns b.. of op(B): rows of B when transposed
    bp += tb ? b * ldb : b;
    c += b;
    n = e - b;
  }
  library_call<T>(lib, a, ta, bp, tb, m, n, K, lda, ldb, ldc, alpha, beta, c);
}

// One chunk of K: alpha op(A)[:, b:e) op(B)[b:e, :], the columns [b, e) of
// op(A) and its rows of op(B), the whole of C wide. Chunk 0 goes into C with
// the caller's beta; chunk p > 0 into its partial `part` (dense, M x N) with
// beta 0.
template <class T>
void gemm_chunk(GemmLibrary lib, const Buffer& A, bool ta, const Buffer& B, bool tb, T alpha,
                T beta, const Buffer& C, T* part, std::int64_t b, std::int64_t e) {
  const std::int64_t lda = A.shape.cols, ldb = B.shape.cols;
  const T* a = A.as<T>() + (ta ? b * lda : b);   // columns b.. of op(A): rows of A when transposed
  const T* bp = B.as<T>() + (tb ? b : b * ldb);  // rows b.. of op(B): columns of B when transposed
  library_call<T>(lib, a, ta, bp, tb, C.shape.rows, C.shape.cols, e - b, lda, ldb, C.shape.cols,
                  alpha, part ? T(0) : beta, part ? part : C.as<T>());
}

// Row i of C plus the partials of chunks 1 .. chunks - 1, in that order:
// each element is ((C0 + C1) + C2) + ... whichever thread adds it.
template <class T>
void add_partials(const Buffer& C, const T* parts, std::int64_t stride, int chunks, std::int64_t i) {
  const std::int64_t n = C.shape.cols;
  T* c = C.as<T>() + i * n;
  for (int p = 1; p < chunks; ++p) {
    const T* s = parts + (p - 1) * stride + i * n;
    for (std::int64_t j = 0; j < n; ++j) c[j] += s[j];
  }
}

// The partial products of this thread's product cut along K (chunks 1 ..,
// each `stride` elements apart), grown to the largest product asked for and
// kept for the thread's life: after the first call of a shape, no
// allocation (serving promises none per call).
template <class T>
T* partials_scratch(std::size_t count) {
  thread_local std::vector<T> scratch;
  if (scratch.size() < count) scratch.resize(count);
  return scratch.data();
}

std::atomic<GemmMode> g_mode{GemmMode::auto_select};
std::atomic<std::uint64_t> g_calls[3];  // per GemmLibrary

bool is_small(const GemmKey& k) { return k.M * k.N * k.K <= small_gemm_limit; }

}  // namespace

// The split is a function of the key alone: the same panels on 1 thread as
// on 16, so the same library calls compute the same elements. Cutting costs
// little while panels are wide: each panel's call packs the operand all
// panels share again (op(B) for bands of rows, op(A) for bands of columns).
// Measured here single-threaded, the panels' sum over one whole call: 2
// panels +0-1%; 4 panels of 64 rows (256 x 256 x 512) +10% on OpenBLAS,
// +0-3% at 128 or more; 8 panels of 32 +15-26%. Hence at least 16 P rows
// or columns per panel: 2 panels from 64, 4 from 256, 8 from 1024.
//
// A product whose K is long against both M and N is cut along K instead:
// its chunks share no operand, so none is packed twice, and the price is
// C written once per chunk and summed, small while C is. Measured here
// single-threaded (f32, medians of 31-61 alternated runs on a busy 2-core
// AMD EPYC, oneDNN NN and OpenBLAS TN), the rule's chunks over the rule's
// panels: W-course's Z1 = W1 X (20 x 209 x 12288) 0.92 on oneDNN and 0.88
// on OpenBLAS, where 2 panels cost +15-17% over one call and 8 chunks
// +3-6%; serving's X W1^T at batch 64 (64 x 20 x 12288) 0.96 and 0.85;
// 0.82-1.05 from K = 4 max(M, N) to 32 (128 x 128 x 512 to 64 x 128 x
// 4096); but at K = 3 max(M, N), serving's batch 4096 (4096 x 20 x 12288),
// 1.60 on oneDNN, whose one call there is 1.6x slower than 8 panels of
// rows. Hence K >= 8 max(M, N), a margin above the loss. Chunks of 256
// cost +7% over one call (128 x 128 x 512), of 512 or more 0-5%: hence at
// least 512 of K per chunk. A product whose chunks would be one is cut as
// the panels' rule says.
GemmSplit gemm_split(const GemmKey& k) {
  using Cut = GemmSplit::Cut;
  GemmSplit s;
  if (is_small(k)) {
    s.cut = k.M >= k.N ? Cut::rows : Cut::columns;
    s.extent = k.M >= k.N ? k.M : k.N;
    return s;
  }
  const double work = double(k.M) * double(k.N) * double(k.K);
  if (k.K >= gemm_depth_ratio * std::max(k.M, k.N)) {
    s.cut = Cut::depth;
    s.extent = k.K;
    for (int p = 2; p <= gemm_max_panels; p *= 2) {
      if (work / p < double(gemm_panel_work) || k.K / p < gemm_chunk_min_depth) break;
      s.panels = p;
    }
    if (s.panels > 1) return s;
    s.panels = 1;  // too little work to share along K: the panels' rule
  }
  s.cut = k.M >= k.N ? Cut::rows : Cut::columns;
  s.extent = s.cut == Cut::rows ? k.M : k.N;
  for (int p = 2; p <= gemm_max_panels; p *= 2) {
    if (work / p < double(gemm_panel_work) || s.extent / p < gemm_panel_min_extent * p) break;
    s.panels = p;
  }
  return s;
}

// Part p starts at the multiple of gemm_panel_align nearest p/panels of the
// extent. Unrounded, each panel spans at least 2 gemm_panel_min_extent = 32
// rows or columns, each chunk gemm_chunk_min_depth of K; rounding moves
// each end by at most align / 2 = 4.
std::int64_t GemmSplit::begin(int p) const {
  if (p <= 0) return 0;
  if (p >= panels) return extent;
  const std::int64_t exact = extent * p / panels;
  return std::min(extent, (exact + gemm_panel_align / 2) / gemm_panel_align * gemm_panel_align);
}

// --gemm auto's rule, from single-threaded timings of the panels (real
// strides, one after another, minimum of 8-12 alternated runs) of the
// benchmark workloads' GEMMs on this AMD EPYC (Zen 3, AVX2; the table is in
// docs/performance.md). oneDNN's sgemm is 0-20% faster than OpenBLAS's on
// every NN and NT product of them, W-course's Z1 = W1 X (20 x 209 x 12288)
// included, but with op(A) transposed it is 1.4x slower at 512 x 256 x 512
// and 2.2x at 1024 x 256 x 1024 (W-wide's dA1 = W2^T dZ2) and 0-7% slower
// at 256 x 512 x 256 (W-deep's dA), faster on smaller TN ones. So TN and TT
// go to OpenBLAS. Known cost of a rule this simple: NN products with M = 20,
// K >= 4096 and panels of 100-200 columns ran 11-26% faster on OpenBLAS.
//
// A sample input stored by sample (passes/sample_layout.hpp) makes two
// products with few rows and long contiguous rows: the cat network's
// Z1 = W1 Xs^T (NT, 20 x m x 12288) and dW1 = dZ1 Xs (NN, 20 x 12288 x m).
// There OpenBLAS won at every m measured (64 to 512): Z1 2.3 against 3.1 ms
// and dW1 1.9 against 3.4 ms at m = 209, with 64 rows too. Serving's first
// layer in rows, X W1^T (NT, batch x 20 x 12288), is not one of them: there
// oneDNN won (480 against 625 us at batch 64, 18 against 99 us at batch 1),
// hence at least 64 columns for NT.
constexpr std::string_view rule_summary =
    "f32 NN and NT on oneDNN, except NN with M <= 64 and N >= 8192 and NT with M <= 64, N >= 64 "
    "and K >= 8192; TN and TT (op(A) transposed) on OpenBLAS";

namespace {
bool few_rows_long_rows(const GemmKey& k) {
  if (k.M > 64) return false;
  return k.trans_b ? k.N >= 64 && k.K >= 8192 : k.N >= 8192;
}
}  // namespace

GemmLibrary choose_library(const GemmKey& k) {
  if (k.dtype != DType::f32 || k.trans_a) return GemmLibrary::openblas;
  if (few_rows_long_rows(k)) return GemmLibrary::openblas;
  return GemmLibrary::onednn;
}

std::string_view gemm_rule() { return rule_summary; }

namespace {
// The partials' spacing: each on its own cache lines (16 floats, 8 doubles
// and more), so threads writing neighbouring partials share none.
std::int64_t partial_stride(std::int64_t elements) { return (elements + 15) / 16 * 16; }
}  // namespace

void reserve_gemm_partials(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k) {
  // Only products with K >= gemm_depth_ratio x max(m', n) are cut along K.
  std::int64_t most = 0;
  for (std::int64_t r = 1; r <= std::min(m, k / gemm_depth_ratio); ++r)
    for (const GemmKey& key : {GemmKey{dtype, false, false, r, n, k}, GemmKey{dtype, false, false, n, r, k}})
      if (const GemmSplit s = gemm_split(key); s.cut == GemmSplit::Cut::depth)
        most = std::max(most, partial_stride(r * n) * (s.panels - 1));
  if (most == 0) return;
  if (dtype == DType::f32) partials_scratch<float>(std::size_t(most));
  else partials_scratch<double>(std::size_t(most));
}

template <class T>
void blas_gemm(const Buffer& A, bool ta, const Buffer& B, bool tb, T alpha, T beta,
               const Buffer& C) {
  const GemmKey key{std::is_same_v<T, float> ? DType::f32 : DType::f64, ta, tb, C.shape.rows,
                    C.shape.cols, ta ? A.shape.rows : A.shape.cols};
  const GemmDecision d = plan_gemm(key);
  // A tiny product asked for here (bench's GEMM-only replay) still goes to a library.
  const GemmLibrary lib = d.library == GemmLibrary::onednn ? GemmLibrary::onednn : GemmLibrary::openblas;
  const GemmSplit& s = d.split;
  const int team = std::max(1, std::min(gemm_threads(), s.panels));
#if !defined(_OPENMP)
  // Built without OpenMP (clang): the panels run one after another here, and
  // OpenBLAS (an OpenMP build) must not thread them itself.
  const int saved = openblas_get_num_threads();
  if (saved != 1) openblas_set_num_threads(1);
#endif
  // Cut along K, chunk 0 goes into C and chunk p > 0 into partial p - 1 of
  // this thread's scratch, each partial on its own cache lines; then C +=
  // the partials in chunk order, row by row.
  const bool depth = s.cut == GemmSplit::Cut::depth;
  const std::int64_t stride = depth ? partial_stride(C.shape.size()) : 0;
  T* parts = depth ? partials_scratch<T>(std::size_t(stride * (s.panels - 1))) : nullptr;
  // Part p (a panel or a chunk), on this thread alone. Nothing in it throws.
  const auto run_part = [&](int p) {
    if (depth)
      gemm_chunk<T>(lib, A, ta, B, tb, alpha, beta, C, p == 0 ? nullptr : parts + (p - 1) * stride,
                    s.begin(p), s.begin(p + 1));
    else
      gemm_panel<T>(lib, A, ta, B, tb, alpha, beta, C, s.cut == GemmSplit::Cut::rows, s.begin(p),
                    s.begin(p + 1));
  };
  if (Collectives* progress = team == 1 && s.panels > 1 ? GemmProgress::current() : nullptr) {
    // This thread alone, with the sums moved on between the parts (outside
    // any OpenMP region: progress() may throw).
    for (int p = 0; p < s.panels; ++p) {
      if (p > 0) progress->progress();
      run_part(p);
    }
    if (depth)
      for (std::int64_t i = 0; i < C.shape.rows; ++i) add_partials<T>(C, parts, stride, s.panels, i);
  } else {
    // schedule(static): whichever thread takes a part, the part is computed
    // by the same call, and each row's partials are added in chunk order.
    DAGRAD_OMP(omp parallel num_threads(team))
    {
      DAGRAD_OMP(omp for schedule(static))
      for (int p = 0; p < s.panels; ++p) run_part(p);
      if (depth) {
        DAGRAD_OMP(omp for schedule(static))
        for (std::int64_t i = 0; i < C.shape.rows; ++i) add_partials<T>(C, parts, stride, s.panels, i);
      }
    }
  }
#if !defined(_OPENMP)
  if (saved != 1) openblas_set_num_threads(saved);
  (void)team;
#endif
  g_calls[int(lib)].fetch_add(1, std::memory_order_relaxed);
}

template void blas_gemm<float>(const Buffer&, bool, const Buffer&, bool, float, float,
                               const Buffer&);
template void blas_gemm<double>(const Buffer&, bool, const Buffer&, bool, double, double,
                                const Buffer&);

// ---- the public face --------------------------------------------------------

namespace {
thread_local Collectives* g_progress = nullptr;
}

GemmProgress::GemmProgress(Collectives* collectives) : saved_(g_progress) { g_progress = collectives; }
GemmProgress::~GemmProgress() { g_progress = saved_; }
Collectives* GemmProgress::current() { return g_progress; }

int gemm_threads() { return openblas_get_num_threads(); }

GemmKey gemm_key(DType dtype, Shape a, bool trans_a, Shape b, bool trans_b) {
  return GemmKey{dtype, trans_a, trans_b, trans_a ? a.cols : a.rows, trans_b ? b.rows : b.cols,
                 trans_a ? a.rows : a.cols};
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

GemmDecision plan_gemm(const GemmKey& k) {
  using Why = GemmDecision::Why;
  const GemmSplit split = gemm_split(k);
  if (is_small(k)) return {GemmLibrary::loop, Why::small, split, k};
  const GemmMode mode = g_mode.load(std::memory_order_relaxed);
  const bool f64 = k.dtype == DType::f64;
  if (mode == GemmMode::openblas) return {GemmLibrary::openblas, Why::pinned, split, k};
  if (mode == GemmMode::onednn)
    return {f64 ? GemmLibrary::openblas : GemmLibrary::onednn, f64 ? Why::f64 : Why::pinned, split, k};
  if (!onednn_built()) return {GemmLibrary::openblas, Why::no_onednn, split, k};
  if (f64) return {GemmLibrary::openblas, Why::f64, split, k};
  return {choose_library(k), Why::rule, split, k};
}

std::optional<GemmKey> node_gemm_key(const Graph& graph, NodeId id, std::int64_t m) {
  const Node& n = graph.node(id);
  if (n.op != OpKind::matmul && n.op != OpKind::matmul_bias) return std::nullopt;
  return gemm_key(n.dtype, graph.node(n.inputs[0]).shape.at(m), n.attr<MatmulAttrs>().trans_a,
                  graph.node(n.inputs[1]).shape.at(m), n.attr<MatmulAttrs>().trans_b);
}

std::string_view library_name(GemmLibrary lib) {
  switch (lib) {
    case GemmLibrary::loop: return "loop";
    case GemmLibrary::onednn: return "onednn";
    case GemmLibrary::openblas: break;
  }
  return "openblas";
}

namespace {

std::string split_text(const GemmSplit& s) {
  if (s.panels == 1) return "1 panel";
  if (s.cut == GemmSplit::Cut::depth)
    return fmt::format("{} chunks of about {} of K, summed in order", s.panels, s.extent / s.panels);
  return fmt::format("{} panels of about {} {}", s.panels, s.extent / s.panels,
                     s.cut == GemmSplit::Cut::rows ? "rows" : "columns");
}

std::string why_text(const GemmDecision& d) {
  using Why = GemmDecision::Why;
  switch (d.why) {
    case Why::small: return fmt::format("M N K <= {}: no library call", small_gemm_limit);
    case Why::rule:
      return fmt::format("rule: {}{}{}", d.key.trans_a ? 'T' : 'N', d.key.trans_b ? 'T' : 'N',
                         few_rows_long_rows(d.key) && !d.key.trans_a ? ", few rows of long rows" : "");
    case Why::pinned: return "pinned by --gemm";
    case Why::no_onednn: return "built without oneDNN";
    case Why::f64: return "oneDNN has no f64 GEMM";
  }
  return {};
}

}  // namespace

std::string describe(const GemmDecision& d) {
  const std::string why = why_text(d);
  if (d.library == GemmLibrary::loop) return fmt::format("loop ({})", why);
  return fmt::format("{} ({}); {}", library_name(d.library), why, split_text(d.split));
}

std::string openblas_core() {
  const char* name = openblas_get_corename();
  return name ? name : "";
}

std::string onednn_isa() {
#if DAGRAD_WITH_ONEDNN
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "SSE41";
    case dnnl_cpu_isa_avx: return "AVX";
    case dnnl_cpu_isa_avx2: return "AVX2";
    case dnnl_cpu_isa_avx2_vnni: return "AVX2_VNNI";
    case dnnl_cpu_isa_avx512_core: return "AVX512_CORE";
    case dnnl_cpu_isa_avx512_core_vnni: return "AVX512_CORE_VNNI";
    case dnnl_cpu_isa_avx512_core_bf16: return "AVX512_CORE_BF16";
    case dnnl_cpu_isa_avx512_core_amx: return "AVX512_CORE_AMX";
    default: return "other";
  }
#else
  return "";
#endif
}

std::uint64_t gemm_library_calls(GemmLibrary lib) {
  return g_calls[int(lib)].load(std::memory_order_relaxed);
}

}  // namespace dagrad::ops
