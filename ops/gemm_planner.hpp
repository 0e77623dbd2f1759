// Which library runs each GEMM. OpenBLAS and oneDNN (the library under
// PyTorch's CPU matmul) win on different shapes: on W-course's first layer,
// dnnl_sgemm computes Z1 = W1 X faster and cblas_sgemm dW1 = dZ1 X^T. So, in
// the spirit of FFTW's planner, the first time a GEMM shape is planned both
// libraries run it on scratch buffers of that shape, alternated, and the
// faster is kept for that shape and thread count for the rest of the process.
// The executor plans every matmul of its schedule when it is built
// (plan_gemms); the kernel then only looks the decision up, and plans a
// shape it has not seen (a smaller last batch) the first time it meets it.
//
// OpenBLAS is the default and the fallback: when oneDNN was not built in
// (DAGRAD_WITH_ONEDNN), for f64 (oneDNN has no double GEMM), when oneDNN is
// not clearly faster, and when a oneDNN call fails. set_gemm_mode (the CLI's
// --gemm) pins either library instead.
// NOTE: the two libraries round differently, so results agree to rounding,
// not bitwise; timings decide, so two processes may choose differently on a
// noisy machine. Pin a library when runs must match bit for bit.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
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
  int threads = 1;
  friend bool operator==(const GemmKey&, const GemmKey&) = default;
};

struct GemmDecision {
  enum class Why : std::uint8_t {
    small,       // M N K <= small_gemm_limit: dagrad's own loop, no library
    timed,       // both were timed: the faster, OpenBLAS unless oneDNN wins by 3%
    pinned,      // set_gemm_mode chose the library
    no_onednn,   // this build has no oneDNN
    f64,         // oneDNN has no double GEMM
    onednn_failed,  // dnnl_sgemm returned an error when timed
    too_large,   // the scratch buffers would exceed plan_scratch_limit bytes
    table_full,  // more distinct shapes than the cache holds
  };
  GemmLibrary library = GemmLibrary::openblas;
  Why why = Why::no_onednn;
  double openblas_ms = 0, onednn_ms = 0;  // best time of each when why == timed
};

// The thread count GEMMs run with now (OpenBLAS's, set by runtime::set_threads).
int gemm_threads();

// The key of a product of `a` (trans_a) and `b` (trans_b) at `threads`.
GemmKey gemm_key(DType dtype, Shape a, bool trans_a, Shape b, bool trans_b, int threads);

// The pinned or automatic choice, for the whole process. Asking for oneDNN in
// a build without it is an InputError.
void set_gemm_mode(GemmMode mode);
GemmMode gemm_mode();
GemmMode parse_gemm_mode(std::string_view text);  // "auto", "openblas", "onednn"
std::string_view gemm_mode_name(GemmMode mode);
bool onednn_built();

// Decides the library for `key` now: times both the first time the key is
// seen (a few milliseconds for W-course's largest GEMM), looks the decision
// up afterwards. Thread-safe.
GemmDecision plan_gemm(const GemmKey& key);
// Plans every matmul and matmul_bias node of `schedule` at gemm_threads(),
// for m samples where a shape holds the symbolic sample count.
void plan_gemms(const Graph& graph, std::span<const NodeId> schedule, std::int64_t m = 1);
// The cached decision for `key`, if it was planned (a pinned mode is not cached).
std::optional<GemmDecision> planned_gemm(const GemmKey& key);
// The key of a matmul or matmul_bias node at `threads` and m samples;
// nullopt for other ops.
std::optional<GemmKey> node_gemm_key(const Graph& graph, NodeId id, int threads,
                                     std::int64_t m = 1);

// "onednn (0.98 ms; openblas 1.45 ms)", "openblas (pinned)", ...
std::string describe(const GemmDecision& d);
std::string_view library_name(GemmLibrary lib);

// Library GEMM calls made so far on `lib` (openblas or onednn): what the
// tests check a pinned mode against.
std::uint64_t gemm_library_calls(GemmLibrary lib);

// Forgets every decision. Only for tests: no GEMM may run meanwhile.
void clear_gemm_plans();

// Timing a shape allocates scratch operands; above this many bytes the shape
// keeps OpenBLAS untimed.
inline constexpr std::size_t plan_scratch_limit = std::size_t{256} << 20;

}  // namespace dagrad::ops
