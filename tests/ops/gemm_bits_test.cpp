// The same bits on any thread count (ops/gemm_planner.hpp): ops::blas_gemm
// at 1, 2 and 3 threads, on OpenBLAS and on oneDNN, for the shapes of
// issue 18 (where OpenBLAS's Cooperlake dgemm changed bits with its thread
// count) and more; the split as a function of the shape alone; and the test
// that tests/CMakeLists.txt runs again under each forced OpenBLAS core type
// (OPENBLAS_CORETYPE) and oneDNN ISA cap (DNNL_MAX_CPU_ISA).
#include <catch2/catch.hpp>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/ops/gemm_progress.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/runtime/executor.hpp"
#include "tests/ops/op_test_util.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;

namespace {

using test::random_values;

struct Case {
  DType dtype;
  std::int64_t M, N, K;
  bool ta, tb;
};

// Issue 18's three shapes in both dtypes, W-course's first layer (a long K,
// split by columns), a product cut by rows, one past every panel rule's
// edge (odd sizes), and one left whole that OpenBLAS alone would thread.
const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {DType::f64, 128, 600, 256, false, false}, {DType::f64, 128, 256, 600, false, true},
      {DType::f64, 256, 600, 128, true, false},  {DType::f32, 128, 600, 256, false, false},
      {DType::f32, 128, 256, 600, false, true},  {DType::f32, 256, 600, 128, true, false},
      {DType::f32, 20, 209, 12288, false, false}, {DType::f32, 600, 128, 300, false, false},
      {DType::f32, 257, 129, 513, true, true},   {DType::f64, 301, 45, 700, false, true},
      {DType::f32, 48, 48, 1000, false, false},
  };
  return all;
}

// C = 0.75 op(A) op(B) + beta C through ops::blas_gemm at `threads`, C
// starting from fixed values.
template <class T>
std::vector<T> product(const Case& c, double beta, int threads) {
  runtime::set_threads(threads);
  const Shape as = c.ta ? Shape{c.K, c.M} : Shape{c.M, c.K}, bs = c.tb ? Shape{c.N, c.K} : Shape{c.K, c.N};
  const auto a = random_values(as.size(), 1), b = random_values(bs.size(), 2), c0 = random_values(c.M * c.N, 3);
  std::vector<T> A(a.begin(), a.end()), B(b.begin(), b.end()), C(c0.begin(), c0.end());
  ops::blas_gemm<T>({A.data(), as}, c.ta, {B.data(), bs}, c.tb, T(0.75), T(beta), {C.data(), {c.M, c.N}});
  return C;
}

// The product at 1 thread against a double triple loop on the same T
// operands (the panels cover C once each), then 2 and 3 threads bit for bit.
template <class T>
void check_case(const Case& c, double beta) {
  const std::vector<T> one = product<T>(c, beta, 1);
  {
    const Shape as = c.ta ? Shape{c.K, c.M} : Shape{c.M, c.K}, bs = c.tb ? Shape{c.N, c.K} : Shape{c.K, c.N};
    const auto a = random_values(as.size(), 1), b = random_values(bs.size(), 2), c0 = random_values(c.M * c.N, 3);
    const double tol = (std::is_same_v<T, float> ? 2e-6 : 1e-14) * double(c.K);
    for (std::int64_t i = 0; i < c.M; i += 7)  // every 7th row: enough to see a misplaced panel
      for (std::int64_t j = 0; j < c.N; ++j) {
        double s = 0;
        for (std::int64_t k = 0; k < c.K; ++k)
          s += double(T(c.ta ? a[k * c.M + i] : a[i * c.K + k])) * double(T(c.tb ? b[j * c.K + k] : b[k * c.N + j]));
        const double want = 0.75 * s + beta * double(T(c0[i * c.N + j]));
        const double got = double(one[std::size_t(i * c.N + j)]);
        if (std::abs(got - want) > tol) FAIL("C(" << i << ", " << j << ") = " << got << ", want " << want);
      }
  }
  for (int threads : {2, 3}) {
    INFO(threads << " threads against 1");
    const std::vector<T> more = product<T>(c, beta, threads);
    CHECK(std::memcmp(one.data(), more.data(), one.size() * sizeof(T)) == 0);
  }
}

// "onednn 20x209x12288 NN f32 beta 1: <the plan's decision>", for INFO.
std::string case_text(ops::GemmMode mode, const Case& c, double beta) {
  const ops::GemmKey key{c.dtype, c.ta, c.tb, c.M, c.N, c.K};
  return fmt::format("{} {}x{}x{} {}{} {} beta {}: {}", ops::gemm_mode_name(mode), c.M, c.N, c.K, c.ta ? 'T' : 'N',
                     c.tb ? 'T' : 'N', dtype_name(c.dtype), beta, ops::describe(ops::plan_gemm(key)));
}

void check_all_cases(ops::GemmMode mode) {
  test::GemmModeGuard guard;
  ops::set_gemm_mode(mode);
  for (const Case& c : cases())
    for (double beta : {0.0, 1.0}) {
      INFO(case_text(mode, c, beta));
      if (c.dtype == DType::f32) check_case<float>(c, beta);
      else check_case<double>(c, beta);
    }
}

// What a forced OpenBLAS core type or oneDNN ISA cap needs of the CPU: the
// features its kernels use, as GCC's cpuid check names them (which also
// asks the OS whether it saves the AVX and AVX-512 registers). "" when the
// name is not one of ours.
struct Need {
  const char* name;
  std::vector<const char*> features;
};

bool cpu_has(const char* f) {
  const std::string s = f;
  // __builtin_cpu_supports takes only string literals.
  if (s == "sse3") return __builtin_cpu_supports("sse3");
  if (s == "sse4.1") return __builtin_cpu_supports("sse4.1");
  if (s == "sse4.2") return __builtin_cpu_supports("sse4.2");
  if (s == "avx") return __builtin_cpu_supports("avx");
  if (s == "avx2") return __builtin_cpu_supports("avx2");
  if (s == "fma") return __builtin_cpu_supports("fma");
  if (s == "avx512f") return __builtin_cpu_supports("avx512f");
  if (s == "avx512vl") return __builtin_cpu_supports("avx512vl");
  if (s == "avx512bw") return __builtin_cpu_supports("avx512bw");
  if (s == "avx512dq") return __builtin_cpu_supports("avx512dq");
  if (s == "avx512vnni") return __builtin_cpu_supports("avx512vnni");
  if (s == "avx512bf16") return __builtin_cpu_supports("avx512bf16");
  return false;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::vector<Need>& openblas_cores() {
  static const std::vector<Need> all = {
      {"Prescott", {"sse3"}},
      {"Nehalem", {"sse4.2"}},
      {"SandyBridge", {"avx"}},
      {"Haswell", {"avx2", "fma"}},
      {"Zen", {"avx2", "fma"}},
      {"SkylakeX", {"avx512f", "avx512vl", "avx512bw", "avx512dq"}},
      {"Cooperlake", {"avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512bf16"}},
  };
  return all;
}

const std::vector<Need>& onednn_isas() {
  static const std::vector<Need> all = {
      {"SSE41", {"sse4.1"}},
      {"AVX", {"avx"}},
      {"AVX2", {"avx2", "fma"}},
      {"AVX512_CORE", {"avx512f", "avx512vl", "avx512bw", "avx512dq"}},
      {"AVX512_CORE_VNNI", {"avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512vnni"}},
      {"AVX512_CORE_BF16", {"avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512vnni", "avx512bf16"}},
  };
  return all;
}

// The features of `name` (one of `table`) this CPU lacks; throws for a name
// not in the table, so a typo in tests/CMakeLists.txt cannot pass.
std::string missing(const std::vector<Need>& table, const std::string& name) {
  for (const Need& n : table)
    if (lower(n.name) == lower(name)) {
      std::string out;
      for (const char* f : n.features)
        if (!cpu_has(f)) out += std::string(out.empty() ? "" : ", ") + f;
      return out;
    }
  FAIL("no such kernel set in tests/ops/gemm_bits_test.cpp: " << name);
  return {};
}

}  // namespace

// tests/CMakeLists.txt runs this again under each OPENBLAS_CORETYPE and
// DNNL_MAX_CPU_ISA it lists; alone it checks the kernels the libraries
// picked for this CPU. A forced kernel set this CPU cannot run is skipped
// with the reason, marked "DAGRAD-SKIP" (ctest's SKIP_REGULAR_EXPRESSION):
// forced anyway, OpenBLAS 0.3.21 dies of SIGILL on the first GEMM.
TEST_CASE("the GEMM kernels in use, forced or picked, give the same bits on 1, 2 and 3 threads",
          "[ops][gemm][gemm_kernels]") {
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  const char* isa = std::getenv("DNNL_MAX_CPU_ISA");
  if (core && *core) {
    const std::string lack = missing(openblas_cores(), core);
    if (!lack.empty()) {
      WARN("DAGRAD-SKIP: OPENBLAS_CORETYPE=" << core << ": this CPU lacks " << lack);
      return;
    }
    // Checked after the features: with them missing, asking is safe but
    // the GEMMs below are not.
    if (lower(ops::openblas_core()) != lower(core)) {
      // OpenBLAS 0.3.21 knows Cooperlake's kernels but not the name in
      // OPENBLAS_CORETYPE ("Core not found"); it then runs another core's.
      WARN("DAGRAD-SKIP: OPENBLAS_CORETYPE=" << core << " is not taken by this OpenBLAS, which runs "
                                              << ops::openblas_core() << " instead (its own test)");
      return;
    }
  }
  if (isa && *isa) {
    if (!ops::onednn_built()) {
      WARN("DAGRAD-SKIP: DNNL_MAX_CPU_ISA=" << isa << ": this build has no oneDNN");
      return;
    }
    const std::string lack = missing(onednn_isas(), isa);
    if (!lack.empty()) {
      WARN("DAGRAD-SKIP: DNNL_MAX_CPU_ISA=" << isa << ": this CPU lacks " << lack);
      return;
    }
    CHECK(lower(ops::onednn_isa()) == lower(isa));  // the cap took
  }
  INFO("OpenBLAS core " << ops::openblas_core() << ", oneDNN ISA " << ops::onednn_isa());
  check_all_cases(ops::GemmMode::openblas);
  if (ops::onednn_built()) check_all_cases(ops::GemmMode::onednn);
}

TEST_CASE("the panels of a product depend on its shape alone and cover C once", "[ops][gemm][gemm_bits]") {
  // 128 x 600 x 256: N > M, so columns. 19.7M multiply-adds; 4 panels keep
  // 4.9M >= 2^21 each and 150 >= 16 x 4 columns; 8 would be 75 < 16 x 8
  // wide. Boundaries at the multiples of 8 nearest 150 p (300 rounds up).
  using Cut = ops::GemmSplit::Cut;
  const ops::GemmSplit s = ops::gemm_split({DType::f64, false, false, 128, 600, 256});
  CHECK(s.cut == Cut::columns);
  CHECK(s.extent == 600);
  REQUIRE(s.panels == 4);
  const std::vector<std::int64_t> want{0, 152, 304, 448, 600};
  for (int p = 0; p <= 4; ++p) CHECK(s.begin(p) == want[std::size_t(p)]);
  // 256 x 600 x 128 (the same work): 4 again; 1024 x 1024 x 256 rows: 8
  // of 128.
  CHECK(ops::gemm_split({DType::f32, true, false, 256, 600, 128}).panels == 4);
  const ops::GemmSplit wide = ops::gemm_split({DType::f32, false, true, 1024, 1024, 256});
  CHECK(wide.cut == Cut::rows);
  CHECK(wide.panels == 8);
  // M >= N: rows. 48 x 48 x 1000 (2.3M): two panels would hold 1.15M < 2^21.
  CHECK(ops::gemm_split({DType::f32, false, false, 600, 128, 300}).cut == Cut::rows);
  CHECK(ops::gemm_split({DType::f32, false, false, 48, 48, 1000}).panels == 1);
  // A tiny product is one panel; every split is a power of two up to 8 whose
  // panels are non-empty and in order.
  CHECK(ops::gemm_split({DType::f32, false, false, 8, 8, 8}).panels == 1);
  for (std::int64_t M : {1, 33, 64, 1000, 5000})
    for (std::int64_t N : {1, 31, 64, 999})
      for (std::int64_t K : {1, 100, 4096}) {
        const ops::GemmSplit t = ops::gemm_split({DType::f32, false, false, M, N, K});
        INFO(M << "x" << N << "x" << K << ": " << t.panels << " panels");
        CHECK((t.panels == 1 || t.panels == 2 || t.panels == 4 || t.panels == 8));
        CHECK(t.extent == (t.cut == Cut::rows ? M : t.cut == Cut::columns ? N : K));
        CHECK(t.begin(0) == 0);
        CHECK(t.begin(t.panels) == t.extent);
        for (int p = 0; p < t.panels; ++p) CHECK(t.begin(p) < t.begin(p + 1));
      }
}

TEST_CASE("OpenBLAS products have the same bits on 1, 2 and 3 threads", "[ops][gemm][gemm_bits]") {
  check_all_cases(ops::GemmMode::openblas);
}

TEST_CASE("oneDNN products have the same bits on 1, 2 and 3 threads", "[ops][gemm][gemm_bits]") {
  if (!ops::onednn_built()) {
    dagrad::support::missing_dependency("oneDNN (libdnnl-dev)", "the oneDNN bits check");
    return;
  }
  check_all_cases(ops::GemmMode::onednn);
}

TEST_CASE("products under --gemm auto have the same bits on 1, 2 and 3 threads", "[ops][gemm][gemm_bits]") {
  check_all_cases(ops::GemmMode::auto_select);
}

namespace {

// C = 0.75 op(A) op(B) + beta C for a K-heavy case at `threads`, through
// the progress path when `progress` is set (one thread, the sums moved on
// between the chunks).
struct CountingCollectives final : ops::Collectives {
  int calls = 0;
  void start(NodeId, void*, std::int64_t, DType) override {}
  void wait(NodeId) override {}
  void progress() override { ++calls; }
};

template <class T>
void check_depth_case(const Case& c, double beta) {
  const ops::GemmSplit split = ops::gemm_split({c.dtype, c.ta, c.tb, c.M, c.N, c.K});
  REQUIRE(split.cut == ops::GemmSplit::Cut::depth);
  REQUIRE(split.panels > 1);
  const std::vector<T> one = product<T>(c, beta, 1);
  // Against a double loop on the same T operands, every element, within
  // the worst-case rounding of a sum of K + 2 terms in any order (Higham,
  // Accuracy and Stability, (3.5)): |error| <= (K + 2) u (sum |0.75 a b| +
  // |beta c|), u the unit roundoff of T: 1.7 for 20 x 209 x 12288 in f32.
  // A chunk lost, counted twice or misplaced moves an element by a sum of
  // K / chunks products, typically 0.75 sqrt(K / chunks) / 3 = 9.8 there.
  const Shape as = c.ta ? Shape{c.K, c.M} : Shape{c.M, c.K}, bs = c.tb ? Shape{c.N, c.K} : Shape{c.K, c.N};
  const auto a = random_values(as.size(), 1), b = random_values(bs.size(), 2), c0 = random_values(c.M * c.N, 3);
  const double u = std::is_same_v<T, float> ? 0x1p-24 : 0x1p-53;
  for (std::int64_t i = 0; i < c.M; ++i)
    for (std::int64_t j = 0; j < c.N; ++j) {
      double s = 0, mag = 0;
      for (std::int64_t k = 0; k < c.K; ++k) {
        const double x = double(T(c.ta ? a[k * c.M + i] : a[i * c.K + k])) * double(T(c.tb ? b[j * c.K + k] : b[k * c.N + j]));
        s += x;
        mag += std::abs(x);
      }
      const double cij = beta * double(T(c0[i * c.N + j]));
      const double want = 0.75 * s + cij;
      const double tol = double(c.K + 2) * u * (0.75 * mag + std::abs(cij));
      const double got = double(one[std::size_t(i * c.N + j)]);
      if (!(std::abs(got - want) <= tol)) FAIL("C(" << i << ", " << j << ") = " << got << ", want " << want << " within " << tol);
    }
  for (int threads : {2, 3}) {
    INFO(threads << " threads against 1");
    const std::vector<T> more = product<T>(c, beta, threads);
    CHECK(std::memcmp(one.data(), more.data(), one.size() * sizeof(T)) == 0);
  }
  // One thread with a data-parallel run's sums to move: the same chunks,
  // the same bits, a progress call between each two.
  CountingCollectives sums;
  std::vector<T> with_progress;
  {
    const ops::GemmProgress progress(&sums);
    with_progress = product<T>(c, beta, 1);
  }
  CHECK(sums.calls == split.panels - 1);
  CHECK(std::memcmp(one.data(), with_progress.data(), one.size() * sizeof(T)) == 0);
}

}  // namespace

TEST_CASE("a K-heavy product is cut along K: within the rounding bound of a double loop, the same bits on 1, 2 "
          "and 3 threads", "[ops][gemm][gemm_bits]") {
  test::GemmModeGuard guard;
  // W-course's first layer in the notes' layout (Z1 = W1 X) and serving's
  // rows layout at batch 64 (X W1^T, on W1 or on its transpose), a double
  // TN product and odd sizes with both operands transposed.
  const std::vector<Case> heavy = {
      {DType::f32, 20, 209, 12288, false, false}, {DType::f32, 64, 20, 12288, false, false},
      {DType::f32, 64, 20, 12288, false, true},   {DType::f64, 17, 40, 9001, true, false},
      {DType::f32, 33, 19, 20011, true, true},
  };
  std::vector<ops::GemmMode> modes = {ops::GemmMode::openblas, ops::GemmMode::auto_select};
  if (ops::onednn_built()) modes.push_back(ops::GemmMode::onednn);
  for (ops::GemmMode mode : modes) {
    ops::set_gemm_mode(mode);
    for (const Case& c : heavy)
      for (double beta : {0.0, 1.0}) {
        INFO(case_text(mode, c, beta));
        if (c.dtype == DType::f32) check_depth_case<float>(c, beta);
        else check_depth_case<double>(c, beta);
      }
  }
}

TEST_CASE("after its first call a product cut along K allocates nothing", "[ops][gemm][gemm_bits][serve]") {
  const ops::GemmKey key{DType::f32, false, false, 64, 20, 12288};
  REQUIRE(ops::gemm_split(key).cut == ops::GemmSplit::Cut::depth);
  std::vector<float> A(std::size_t(64 * 12288), 0.5f), B(std::size_t(12288 * 20), 0.25f), C(64 * 20);
  for (int threads : {1, 2}) {
    runtime::set_threads(threads);
    const auto call = [&] {
      ops::blas_gemm<float>({A.data(), {64, 12288}}, false, {B.data(), {12288, 20}}, false, 1.0f, 0.0f,
                            {C.data(), {64, 20}});
    };
    call();  // grows this thread's partials
    const long before = test::allocation_count();
    call();
    call();
    CHECK(test::allocation_count() - before == 0);
    CHECK(C[0] == 12288 * 0.125f);  // exact: every partial and sum is a multiple of 1/8 below 2^24
  }
  // A thread that reserved for up to 4096 samples of a 20 x 12288 weight
  // (4096 x 20 x 12288 is cut by rows, 64 x 20 x 12288 along K) allocates
  // nothing at its first product of 64, in either orientation.
  runtime::set_threads(1);
  long during = -1;
  std::thread fresh([&] {
    ops::reserve_gemm_partials(DType::f32, 4096, 20, 12288);
    std::vector<float> Ct(20 * 64);
    const long before = test::allocation_count();
    ops::blas_gemm<float>({A.data(), {64, 12288}}, false, {B.data(), {12288, 20}}, false, 1.0f, 0.0f,
                          {C.data(), {64, 20}});
    ops::blas_gemm<float>({B.data(), {12288, 20}}, true, {A.data(), {64, 12288}}, true, 1.0f, 0.0f,
                          {Ct.data(), {20, 64}});
    during = test::allocation_count() - before;
  });
  fresh.join();
  CHECK(during == 0);
}

TEST_CASE("a product is cut along K when K >= 8 max(M, N), by its key alone", "[ops][gemm][gemm_bits]") {
  using Cut = ops::GemmSplit::Cut;
  test::GemmModeGuard guard;
  // 20 x 209 x 12288: 12288 >= 8 x 209. 51.4M multiply-adds: 8 chunks keep
  // 6.4M >= 2^21 each and 1536 >= 512 of K; boundaries at 1536 p.
  const ops::GemmKey course{DType::f32, false, false, 20, 209, 12288};
  const ops::GemmSplit s = ops::gemm_split(course);
  CHECK(s.cut == Cut::depth);
  CHECK(s.extent == 12288);
  REQUIRE(s.panels == 8);
  for (int p = 0; p <= 8; ++p) CHECK(s.begin(p) == 1536 * p);
  // 64 x 20 x 12288 (15.7M) and its transpose 20 x 64: 8 chunks would hold
  // 1.97M < 2^21, so 4. 4096 x 20 x 12288: K < 8 x 4096, rows as before
  // (8 panels of 512).
  for (const ops::GemmKey& k : {ops::GemmKey{DType::f32, false, false, 64, 20, 12288},
                                ops::GemmKey{DType::f32, false, true, 20, 64, 12288},
                                ops::GemmKey{DType::f64, true, true, 64, 20, 12288}}) {
    CHECK(ops::gemm_split(k).cut == Cut::depth);
    CHECK(ops::gemm_split(k).panels == 4);
  }
  const ops::GemmSplit batch = ops::gemm_split({DType::f32, false, false, 4096, 20, 12288});
  CHECK(batch.cut == Cut::rows);
  CHECK(batch.panels == 8);
  // At the edge: 200 x 100 x 1599 is below 8 x 200 (rows, 2 panels; 4 would
  // be 50 < 64 rows); 200 x 100 x 1600 is 2 chunks (4 would be 400 < 512 of
  // K). 100 x 100 x 1000 is K-heavy but 2 chunks would be 500 < 512 of K,
  // so the panels' rule: 2 panels of 50 rows.
  CHECK(ops::gemm_split({DType::f32, false, false, 200, 100, 1599}).cut == Cut::rows);
  CHECK(ops::gemm_split({DType::f32, false, false, 200, 100, 1599}).panels == 2);
  CHECK(ops::gemm_split({DType::f32, false, false, 200, 100, 1600}).cut == Cut::depth);
  CHECK(ops::gemm_split({DType::f32, false, false, 200, 100, 1600}).panels == 2);
  CHECK(ops::gemm_split({DType::f32, false, false, 100, 100, 1000}).cut == Cut::rows);
  CHECK(ops::gemm_split({DType::f32, false, false, 100, 100, 1000}).panels == 2);
  // The same split and the same words on any thread count.
  ops::set_gemm_mode(ops::GemmMode::openblas);
  runtime::set_threads(1);
  const std::string at1 = ops::describe(ops::plan_gemm(course));
  CHECK(at1 == "openblas (pinned by --gemm); 8 chunks of about 1536 of K, summed in order");
  for (int t : {2, 3}) {
    runtime::set_threads(t);
    const ops::GemmDecision d = ops::plan_gemm(course);
    CHECK(d.split.cut == Cut::depth);
    CHECK(d.split.panels == 8);
    CHECK(ops::describe(d) == at1);
  }
}
