// Which library runs each GEMM, and how it is cut over threads, so that a
// product has the same bits on any thread count.
//
// NOTE: a BLAS library's own threading changes the bits. OpenBLAS 0.3.21
// blocks the K loop differently when it splits a product over threads, so
// cblas_sgemm on 1 and 2 threads differs in the last bits for most shapes
// (this AMD Zen 3), and cblas_dgemm does too on AVX-512 cores (Cooperlake);
// oneDNN splits K for some shapes. So dagrad owns the split: C is cut into
// panels, bands of its rows (or columns, when N > M) whose count and size
// are a function of (M, N, K) alone (gemm_split), and each panel is one
// single-threaded library call; the threads take the panels in an OpenMP
// loop. Every element is then computed by the same call on the same operands
// whatever the thread count: 1 thread runs the same panels one after the
// other. A product whose K is long against a small C is cut along K instead:
// chunk p is one call into its own partial C, and the partials are summed
// in the fixed order ((C0 + C1) + C2) + ..., whatever thread made each. A library called inside a parallel region runs single-threaded
// (OpenBLAS's and oneDNN's OpenMP builds check omp_in_parallel), and each
// panel also sets its OpenMP thread count to 1, so a team of one thread does
// too (tests/ops/gemm_bits_test.cpp checks both against one-thread calls).
//
// Which library: OpenBLAS, or oneDNN (the library under PyTorch's CPU matmul)
// for f32 products whose A is not transposed, where its single-threaded
// sgemm was faster here. The choice is a fixed rule of the key
// (choose_library: dtype, transposes, M, N, K; never the thread count, never
// a timing), so a model's bits never depend on how busy the machine was. The two libraries round differently,
// so pinning one (set_gemm_mode, the CLI's --gemm) changes f32 bits; each
// mode on its own is reproducible. OpenBLAS is the default and the fallback:
// without oneDNN (DAGRAD_WITH_ONEDNN), for f64 (oneDNN has no double GEMM),
// and for a panel whose dnnl_sgemm call fails.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dagrad/graph/graph.hpp"

namespace dagrad::ops {

enum class GemmMode : std::uint8_t { auto_select, openblas, onednn };
enum class GemmLibrary : std::uint8_t { loop, openblas, onednn };

// A GEMM C (M x N) = alpha op(A) op(B) + beta C on dense row-major operands,
// op(A) M x K: the leading dimensions follow from the shapes and flags.
struct GemmKey {
  DType dtype = DType::f32;
  bool trans_a = false, trans_b = false;
  std::int64_t M = 0, N = 0, K = 0;
  friend bool operator==(const GemmKey&, const GemmKey&) = default;
};

// How a product is cut: into `panels` bands of C's rows or columns, or
// (depth) into `panels` chunks of K, each a whole partial C. Part p covers
// [begin(p), begin(p + 1)) of the `extent` rows, columns or K. Boundaries
// sit at multiples of gemm_panel_align, the parts within one alignment step
// of each other in size.
struct GemmSplit {
  enum class Cut : std::uint8_t { rows, columns, depth };
  Cut cut = Cut::rows;
  int panels = 1;  // panels, or chunks of K when cut == depth
  std::int64_t extent = 0;
  std::int64_t begin(int p) const;
};

// The split of `key`. A K-heavy product (K >= gemm_depth_ratio x max(M, N))
// is cut along K into the most chunks, a power of two up to
// gemm_max_panels, that each keep at least gemm_panel_work multiply-adds
// and gemm_chunk_min_depth of K. Any other is cut along the larger of M and
// N (rows on a tie), into the most panels, a power of two up to
// gemm_max_panels (so 2, 4 and 8 threads share them evenly), that each keep
// at least gemm_panel_work multiply-adds and gemm_panel_min_extent x panels
// rows or columns (the more panels, the wider each: a panel's call packs the
// shared operand again). Tiny products (the loop) are one panel.
GemmSplit gemm_split(const GemmKey& key);
inline constexpr int gemm_max_panels = 8;
inline constexpr std::int64_t gemm_panel_work = std::int64_t{1} << 21;
inline constexpr std::int64_t gemm_panel_min_extent = 16;
inline constexpr std::int64_t gemm_panel_align = 8;
inline constexpr std::int64_t gemm_depth_ratio = 8;
inline constexpr std::int64_t gemm_chunk_min_depth = 512;

// Grows the calling thread's scratch for the partial products of every
// product of up to `m` samples against an n x k weight, (m' x n) or
// (n x m') by k for m' <= m, that gemm_split cuts along K. A product cut
// along K keeps its partials in scratch of the thread that calls it, grown
// at its first such call and then kept; a caller that promises no
// allocation after its first call (serving's Context) calls this when it
// grows, since a product of fewer samples can be cut along K where one of
// m is not.
void reserve_gemm_partials(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k);

struct GemmDecision {
  enum class Why : std::uint8_t {
    small,      // M N K <= small_gemm_limit: dagrad's own loop, no library
    rule,       // --gemm auto: choose_library's rule for this key
    pinned,     // set_gemm_mode chose the library
    no_onednn,  // this build has no oneDNN
    f64,        // oneDNN has no double GEMM
  };
  GemmLibrary library = GemmLibrary::openblas;
  Why why = Why::no_onednn;
  GemmSplit split;
  GemmKey key;
};

// The thread count GEMMs run with now (set by runtime::set_threads): how
// many threads share the panels, never how they are cut.
int gemm_threads();

// The key of a product of `a` (trans_a) and `b` (trans_b).
GemmKey gemm_key(DType dtype, Shape a, bool trans_a, Shape b, bool trans_b);

// The pinned or automatic choice, for the whole process. Asking for oneDNN in
// a build without it is an InputError.
void set_gemm_mode(GemmMode mode);
GemmMode gemm_mode();
GemmMode parse_gemm_mode(std::string_view text);  // "auto", "openblas", "onednn"
std::string_view gemm_mode_name(GemmMode mode);
bool onednn_built();

// --gemm auto's rule for a key that reaches a library: f32 NN and NT on
// oneDNN, TN and TT and all f64 on OpenBLAS (the definition gives the
// measurements behind it).
GemmLibrary choose_library(const GemmKey& key);
std::string_view gemm_rule();  // the rule in one line, for `dagrad plan`

// The library and split `key` gets in the current mode, and why: a pure
// function of the key and the mode.
GemmDecision plan_gemm(const GemmKey& key);
// The key of a matmul or matmul_bias node at m samples; nullopt for other ops.
std::optional<GemmKey> node_gemm_key(const Graph& graph, NodeId id, std::int64_t m = 1);

// "onednn (rule: ...); 4 panels of about 128 columns", "...; 4 chunks of
// about 3072 of K, summed in order", ...
std::string describe(const GemmDecision& d);
std::string_view library_name(GemmLibrary lib);

// The kernels in use: OpenBLAS's core type ("Haswell", "Zen", "SkylakeX",
// ...; OPENBLAS_CORETYPE forces one) and oneDNN's effective ISA, named as
// DNNL_MAX_CPU_ISA takes it ("AVX2", "AVX512_CORE", ...; "" without oneDNN).
std::string openblas_core();
std::string onednn_isa();

// Library GEMM calls made so far on `lib` (openblas or onednn), one per
// product whatever its panels: what the tests check a pinned mode against.
std::uint64_t gemm_library_calls(GemmLibrary lib);

}  // namespace dagrad::ops
