// The GEMM planner (ops/gemm_planner.hpp): both libraries against a plain
// triple loop in double, the pinned modes, --gemm auto's rule as a function
// of the key alone, and `dagrad plan`'s report. tests/ops/gemm_bits_test.cpp
// checks the bits across thread counts.
#include <cmath>
#include <random>

#include "dagrad/ops/gemm_planner.hpp"
#include "dagrad/ops/kernels.hpp"
#include "tests/ops/op_test_util.hpp"
#include "tests/robustness/cli_run.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;
using namespace dagrad::test;

namespace {

// C = alpha op(A) op(B) + beta C by the definition, in double.
std::vector<double> triple_loop(const std::vector<double>& a, Shape as, bool ta,
                                const std::vector<double>& b, Shape bs, bool tb, double alpha,
                                double beta, std::vector<double> c, std::int64_t M,
                                std::int64_t N) {
  const std::int64_t K = ta ? as.rows : as.cols;
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < K; ++k) {
        const double x = ta ? a[k * as.cols + i] : a[i * as.cols + k];
        const double y = tb ? b[j * bs.cols + k] : b[k * bs.cols + j];
        s += x * y;
      }
      c[i * N + j] = alpha * s + beta * c[i * N + j];
    }
  return c;
}

// One product through ops::blas_gemm in T, compared element by element with
// the triple loop; the error bound grows with K as a sum's rounding does.
template <class T>
void check_library_product(bool ta, bool tb, double alpha, double beta) {
  const std::int64_t M = 37, N = 29, K = 53;  // odd, and M N K > small_gemm_limit
  const Shape as = ta ? Shape{K, M} : Shape{M, K}, bs = tb ? Shape{N, K} : Shape{K, N};
  const auto a = random_values(as.size(), 1), b = random_values(bs.size(), 2);
  const auto c0 = random_values(M * N, 3);
  const std::vector<T> ta_(a.begin(), a.end()), tb_(b.begin(), b.end());
  std::vector<T> tc(c0.begin(), c0.end());
  ops::blas_gemm<T>({const_cast<T*>(ta_.data()), as}, ta, {const_cast<T*>(tb_.data()), bs}, tb,
                    T(alpha), T(beta), {tc.data(), {M, N}});
  // The operands as T saw them, so the reference differs only by the sums' rounding.
  const std::vector<double> ad(ta_.begin(), ta_.end()), bd(tb_.begin(), tb_.end());
  const std::vector<double> cd(c0.begin(), c0.end());
  std::vector<double> cdt(cd.size());
  for (std::size_t i = 0; i < cd.size(); ++i) cdt[i] = double(T(cd[i]));
  const auto want = triple_loop(ad, as, ta, bd, bs, tb, alpha, beta, cdt, M, N);
  const double tol = (std::is_same_v<T, float> ? 1e-6 : 1e-14) * double(K);
  for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(double(tc[i]) == Approx(want[i]).margin(tol));
}

template <class T>
void check_all_flags() {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [alpha, beta] : {std::pair{1.0, 0.0}, std::pair{0.7, 1.0}, std::pair{-1.3, 0.0}}) {
        INFO("trans_a " << ta << " trans_b " << tb << " alpha " << alpha << " beta " << beta);
        check_library_product<T>(ta, tb, alpha, beta);
      }
}

}  // namespace

TEMPLATE_TEST_CASE("OpenBLAS pinned: every transpose, alpha and beta agree with a triple loop",
                   "[ops][gemm]", float, double) {
  test::GemmModeGuard guard;
  ops::set_gemm_mode(ops::GemmMode::openblas);
  const auto before = ops::gemm_library_calls(ops::GemmLibrary::openblas);
  const auto before_dnnl = ops::gemm_library_calls(ops::GemmLibrary::onednn);
  check_all_flags<TestType>();
  CHECK(ops::gemm_library_calls(ops::GemmLibrary::openblas) == before + 12);
  CHECK(ops::gemm_library_calls(ops::GemmLibrary::onednn) == before_dnnl);
}

TEST_CASE("oneDNN pinned: every transpose, alpha and beta agree with a triple loop in f32",
          "[ops][gemm]") {
  if (!ops::onednn_built()) {
    test::GemmModeGuard guard;
    CHECK_THROWS_AS(ops::set_gemm_mode(ops::GemmMode::onednn), InputError);
    dagrad::support::missing_dependency("oneDNN (libdnnl-dev)", "every check but the refusal of --gemm onednn");
    return;
  }
  test::GemmModeGuard guard;
  ops::set_gemm_mode(ops::GemmMode::onednn);
  const auto before = ops::gemm_library_calls(ops::GemmLibrary::onednn);
  const auto before_blas = ops::gemm_library_calls(ops::GemmLibrary::openblas);
  check_all_flags<float>();
  CHECK(ops::gemm_library_calls(ops::GemmLibrary::onednn) == before + 12);
  CHECK(ops::gemm_library_calls(ops::GemmLibrary::openblas) == before_blas);
  // oneDNN has no double GEMM: f64 stays on OpenBLAS even when pinned.
  check_library_product<double>(true, false, 0.5, 1.0);
  CHECK(ops::gemm_library_calls(ops::GemmLibrary::openblas) == before_blas + 1);
  const ops::GemmDecision d = ops::plan_gemm({DType::f64, false, false, 64, 64, 64});
  CHECK(d.library == ops::GemmLibrary::openblas);
  CHECK(d.why == ops::GemmDecision::Why::f64);
}

TEST_CASE("auto mode: the library is a fixed rule of the key, never of the thread count or a timing",
          "[ops][gemm]") {
  test::GemmModeGuard guard;
  ops::set_gemm_mode(ops::GemmMode::auto_select);
  using Why = ops::GemmDecision::Why;
  // The rule's two sides, read off its statement: f32 NN and NT on oneDNN,
  // TN and TT on OpenBLAS, whatever the sizes.
  const ops::GemmKey nn{DType::f32, false, false, 20, 209, 12288};
  const ops::GemmKey nt{DType::f32, false, true, 1024, 1024, 256};
  const ops::GemmKey tn{DType::f32, true, false, 1024, 256, 1024};
  const ops::GemmKey tt{DType::f32, true, true, 37, 29, 53};
  const ops::GemmKey f64{DType::f64, false, false, 37, 29, 53};
  const ops::GemmKey tiny{DType::f32, false, false, 8, 8, 8};
  const ops::GemmKey& wide = nt;
  if (ops::onednn_built()) {
    for (const ops::GemmKey& k : {nn, nt, tn, tt}) {
      INFO(k.M << "x" << k.N << "x" << k.K << " " << k.trans_a << k.trans_b);
      CHECK(ops::plan_gemm(k).why == Why::rule);
      CHECK(ops::plan_gemm(k).library == (k.trans_a ? ops::GemmLibrary::openblas : ops::GemmLibrary::onednn));
    }
    CHECK(ops::plan_gemm(f64).why == Why::f64);
    // The exception for few rows of long contiguous rows (an input stored
    // by sample): NT with N >= 64 and K >= 8192 and NN with N >= 8192, at
    // most 64 rows. Serving's first layer in rows (batch x 20 x 12288 NT) stays.
    const ops::GemmKey z1s{DType::f32, false, true, 20, 209, 12288};
    const ops::GemmKey dw1s{DType::f32, false, false, 64, 8192, 209};
    CHECK(ops::plan_gemm(z1s).library == ops::GemmLibrary::openblas);
    CHECK(ops::plan_gemm(dw1s).library == ops::GemmLibrary::openblas);
    for (const ops::GemmKey& k : {ops::GemmKey{DType::f32, false, true, 65, 209, 12288},
                                  ops::GemmKey{DType::f32, false, true, 20, 209, 8191},
                                  ops::GemmKey{DType::f32, false, false, 20, 8191, 209},
                                  ops::GemmKey{DType::f32, false, true, 1, 20, 12288},
                                  ops::GemmKey{DType::f32, false, true, 64, 63, 12288}}) {
      INFO(k.M << "x" << k.N << "x" << k.K << " " << k.trans_b);
      CHECK(ops::plan_gemm(k).library == ops::GemmLibrary::onednn);
    }
  } else {
    CHECK(ops::plan_gemm(wide).why == Why::no_onednn);
    CHECK(ops::plan_gemm(f64).why == Why::no_onednn);
  }
  CHECK(ops::plan_gemm(f64).library == ops::GemmLibrary::openblas);
  CHECK(ops::plan_gemm(tiny).library == ops::GemmLibrary::loop);
  // The same answer at any thread count, and on every call.
  const ops::GemmDecision at1 = ops::plan_gemm(wide);
  for (int t : {2, 3}) {
    runtime::set_threads(t);
    const ops::GemmDecision d = ops::plan_gemm(wide);
    CHECK(d.library == at1.library);
    CHECK(d.split.panels == at1.split.panels);
    CHECK(ops::describe(d) == ops::describe(at1));
  }
  // A pinned mode wins over the rule.
  ops::set_gemm_mode(ops::GemmMode::openblas);
  CHECK(ops::plan_gemm(wide).why == Why::pinned);
  CHECK(ops::plan_gemm(wide).library == ops::GemmLibrary::openblas);
}

TEST_CASE("a matmul node's key is its product at m samples", "[ops][gemm]") {
  test::GemmModeGuard guard;
  ops::set_gemm_mode(ops::GemmMode::auto_select);
  runtime::set_threads(1);
  OpHarness<float> h;
  const std::vector<double> w = random_values(24 * 300, 4), x = random_values(300 * 40, 5);
  auto W = h.input("W", {24, 300}, w);
  auto X = h.input("X", {300, 40}, x);
  auto Z = W * X;
  const auto key = ops::node_gemm_key(h.g, Z.id);
  REQUIRE(key);
  CHECK(key->M == 24);
  CHECK(key->N == 40);
  CHECK(key->K == 300);
  CHECK_FALSE(ops::node_gemm_key(h.g, W.id));
  std::vector<double> want(24 * 40, 0.0);
  want = triple_loop(w, {24, 300}, false, x, {300, 40}, false, 1.0, 0.0, want, 24, 40);
  std::vector<float> wf(w.begin(), w.end()), xf(x.begin(), x.end());
  runtime::Executor exec(h.g, {Z.id});
  exec.bind(W.id, wf.data(), {24, 300});
  exec.bind(X.id, xf.data(), {300, 40});
  runtime::set_threads(2);
  exec.run();
  const auto got = exec.values<float>(Z.id);
  for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(double(got[i]) == Approx(want[i]).margin(3e-4));
}

TEST_CASE("the gemm mode parses auto, openblas and onednn and refuses anything else", "[ops][gemm]") {
  CHECK(ops::parse_gemm_mode("auto") == ops::GemmMode::auto_select);
  CHECK(ops::parse_gemm_mode("openblas") == ops::GemmMode::openblas);
  CHECK(ops::parse_gemm_mode("onednn") == ops::GemmMode::onednn);
  CHECK_THROWS_WITH(ops::parse_gemm_mode("mkl"), Catch::Contains("--gemm mkl"));
}

TEST_CASE("dagrad plan names the library of every GEMM and why", "[ops][gemm][cli]") {
  io::test::TempDir dir;
  const robustness::CliResult pinned = robustness::run_cli(
      dir.path(), {"plan", "--layers", "300,64,1", "--m", "100", "--dtype", "f32", "--gemm", "openblas"});
  INFO(pinned.err);
  REQUIRE(pinned.exit_code == 0);
  CHECK(pinned.out.find("GEMMs, --gemm openblas") != std::string::npos);
  // Z1 = W1 X: 64 x 100, K = 300, through a library; Z2 = W2 A1 (1 x 100, K = 64) is a tiny loop.
  CHECK(pinned.out.find("64x100x300 NN f32") != std::string::npos);
  // 1.92M multiply-adds: two panels would hold less than 2^21 each, so one.
  CHECK(pinned.out.find("openblas (pinned by --gemm); 1 panel") != std::string::npos);
  CHECK(pinned.out.find("1x100x64 NN f32") != std::string::npos);
  CHECK(pinned.out.find("loop (M N K <= 16384") != std::string::npos);
  const robustness::CliResult f64 = robustness::run_cli(
      dir.path(), {"plan", "--layers", "300,64,1", "--m", "100", "--dtype", "f64"});
  REQUIRE(f64.exit_code == 0);
  CHECK(f64.out.find(ops::onednn_built() ? "openblas (oneDNN has no f64 GEMM)"
                                         : "openblas (built without oneDNN)") != std::string::npos);
  if (ops::onednn_built()) {
    const robustness::CliResult ruled = robustness::run_cli(
        dir.path(), {"plan", "--layers", "300,64,1", "--m", "100", "--dtype", "f32", "--threads", "2"});
    REQUIRE(ruled.exit_code == 0);
    CHECK(ruled.out.find("GEMMs, --gemm auto (the panels are shared by 2 threads") != std::string::npos);
    CHECK(ruled.out.find("onednn (rule: ") != std::string::npos);
  }
}
