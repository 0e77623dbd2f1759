// Does a persistent packed layout of X pay? W-course's first layer (f32,
// X is 12288 x 209) runs two GEMMs per step that read X:
//   Z1  = W1 X        (20 x 12288) (12288 x 209)   NN
//   dW1 = dZ1 X^T     (20 x 209) (209 x 12288)^T   NT, 1/m in alpha
// X never changes between full-batch iterations, yet cblas_sgemm and
// dnnl_sgemm pack it again on every call. oneDNN's matmul primitive can take
// its weights (the B operand) in a blocked layout of its choosing
// (format_tag::any), reordered once; this program times, alternated call by
// call, min and median over --reps:
//   cblas_sgemm, dnnl_sgemm, the matmul primitive on X as it is, and the
//   matmul primitive on X reordered once into the primitive's own layout.
// Standalone (not part of the build, needs libdnnl-dev):
//   B=/usr/lib/x86_64-linux-gnu/openblas-openmp
//   g++ -O2 -std=c++20 bench/gemm_packed.cpp -o /tmp/gemm_packed -fopenmp -ldnnl
//     -I/usr/include/x86_64-linux-gnu/openblas-openmp -L$B -Wl,-rpath,$B -lopenblas
//   OMP_WAIT_POLICY=PASSIVE /tmp/gemm_packed [reps] [threads]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

namespace {

using Clock = std::chrono::steady_clock;
using dnnl::memory;

struct Method {
  std::string name;
  std::function<void()> call;
  std::vector<double> ms;
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * double(v.size() - 1) + 0.5)];
}

// max |a - b| / max |b|: the methods compute the same product.
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, double(std::abs(a[i] - b[i])));
    s = std::max(s, double(std::abs(b[i])));
  }
  return d / s;
}

// One oneDNN matmul C = alpha op(A) op(B): A and C plain row-major, B either
// as stored (tb: B^T is read through a transposed memory descriptor) or
// reordered once into the layout the primitive prefers.
struct Matmul {
  dnnl::matmul prim;
  memory a, b, c;
  Matmul(dnnl::engine& eng, dnnl::stream& s, float* A, float* B, float* C, long M, long N, long K,
         bool tb, float alpha, bool packed) {
    const auto f32 = memory::data_type::f32;
    const memory::desc a_md({M, K}, f32, memory::format_tag::ab);
    const memory::desc b_plain({K, N}, f32, tb ? memory::format_tag::ba : memory::format_tag::ab);
    const memory::desc c_md({M, N}, f32, memory::format_tag::ab);
    const memory::desc b_md = packed ? memory::desc({K, N}, f32, memory::format_tag::any) : b_plain;
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {alpha});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, eng);
    prim = dnnl::matmul(pd);
    a = memory(a_md, eng, A);
    c = memory(c_md, eng, C);
    memory user_b(b_plain, eng, B);
    if (packed && pd.weights_desc() != b_plain) {
      b = memory(pd.weights_desc(), eng);  // owned by oneDNN, filled once
      dnnl::reorder(user_b, b).execute(s, user_b, b);
      s.wait();
    } else {
      b = user_b;
    }
  }
  void operator()(dnnl::stream& s) {
    prim.execute(s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    s.wait();
  }
};

void run_case(const char* title, long M, long N, long K, bool tb, float alpha, int reps) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  std::vector<float> A(std::size_t(M * K)), B(std::size_t(K * N));
  for (float& v : A) v = nd(rng);
  for (float& v : B) v = nd(rng);
  const long lda = K, ldb = tb ? K : N;
  std::vector<std::vector<float>> C(4, std::vector<float>(std::size_t(M * N)));
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  Matmul plain(eng, strm, A.data(), B.data(), C[2].data(), M, N, K, tb, alpha, false);
  Matmul packed(eng, strm, A.data(), B.data(), C[3].data(), M, N, K, tb, alpha, true);
  std::vector<Method> ms;
  ms.push_back({"cblas_sgemm", [&] {
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N),
                              int(K), alpha, A.data(), int(lda), B.data(), int(ldb), 0.0f, C[0].data(), int(N));
                }, {}});
  ms.push_back({"dnnl_sgemm", [&] {
                  dnnl_sgemm('N', tb ? 'T' : 'N', M, N, K, alpha, A.data(), lda, B.data(), ldb, 0.0f,
                             C[1].data(), N);
                }, {}});
  ms.push_back({"matmul primitive, X as stored", [&] { plain(strm); }, {}});
  ms.push_back({"matmul primitive, X packed once", [&] { packed(strm); }, {}});
  for (int i = 0; i < 3; ++i)
    for (Method& m : ms) m.call();  // JIT, page faults
  for (int i = 0; i < reps; ++i) {
    for (Method& m : ms) {
      const auto t0 = Clock::now();
      m.call();
      m.ms.push_back(1e3 * std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
  std::printf("%s  M=%ld N=%ld K=%ld %s, %d threads, %d alternated reps\n", title, M, N, K,
              tb ? "NT" : "NN", omp_get_max_threads(), reps);
  for (std::size_t k = 0; k < ms.size(); ++k)
    std::printf("  %-34s min %7.3f ms  median %7.3f ms  rel. diff to cblas %.1e\n", ms[k].name.c_str(),
                quantile(ms[k].ms, 0), quantile(ms[k].ms, 0.5), rel_diff(C[k], C[0]));
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 200;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
  const long m = 209, n0 = 12288, n1 = 20;
  run_case("Z1 = W1 X", n1, m, n0, false, 1.0f, reps);
  run_case("dW1 = 1/m dZ1 X^T", n1, n0, m, true, 1.0f / float(m), reps);
  return 0;
}
