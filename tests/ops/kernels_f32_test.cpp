// Every element-wise kernel and the fused ones in float32, against a double
// computation written here, at every length that exercises the loops'
// bodies and tails: n = 1..40 (the AVX2 body is 8 floats wide, the baseline
// body 4) and one large odd n. Binary ops run on every broadcast pattern.
//
// The bounds, in float ulps (units in the last place of a float) at the
// magnitude where the kernel's roundings happen. One rounding is within half
// an ulp of its result; k roundings add up to k relative errors of 2^-24 each,
// so to at most k ulps of the magnitude they act on:
//   one rounding (add, sub, mul, div, neg, square, sqrt, relu, step,
//     leaky_relu, step_mul; dropout a d / p, since a d is exact)  0.5 ulp of |y|
//   affine s x + o (2 roundings)                      2 ulps of |s x| + |o|
//   tanh_grad_mul g (1 - a^2) (3)                     3 ulps of |g| (1 + a^2)
//   sigmoid_grad_mul g a (1 - a) (3)                  3 ulps of |g| |a| (1 + |a|)
//   matmul_bias s A B + c, K products                 (K + 2) ulps of s sum|a b| + |c|
//   transcendentals, as SLEEF states them (its AVX2 path) and glibc
//   meets them (the baseline path): exp, log 1 ulp; tanh 3.5 ulp;
//   sigmoid 1 / (1 + exp(-x)) 2.5 ulp of |y|.
// The baseline x86-64 copy of each loop and its AVX2 copy (ops::set_simd)
// must give the same bits for every kernel but the transcendentals, whose
// two paths call different libraries (SLEEF, glibc) and are each held to
// the bound instead.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "tests/ops/op_test_util.hpp"
#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/op.hpp"

using namespace dagrad;

namespace {

// A float's spacing at |x|: 2^(e - 24) for |x| in [2^(e-1), 2^e).
double float_ulp(double x) {
  int e = 0;
  std::frexp(std::abs(x), &e);
  return std::max(std::ldexp(1.0, e - 24), static_cast<double>(std::numeric_limits<float>::denorm_min()));
}

// Deterministic floats in [lo, hi]: a 64-bit mix of (stream, i).
std::vector<double> floats(std::int64_t n, double lo, double hi, std::uint64_t stream) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint64_t z = (static_cast<std::uint64_t>(i) + 1) * 0x9E3779B97F4A7C15ull ^ (stream * 0xBF58476D1CE4E5B9ull);
    z = (z ^ (z >> 31)) * 0x94D049BB133111EBull;
    z ^= z >> 29;
    const double u = static_cast<double>(z >> 11) * 0x1p-53;
    v[static_cast<std::size_t>(i)] = static_cast<float>(lo + (hi - lo) * u);  // a float value
  }
  return v;
}

// What a kernel computes, in double, and the bound its float result keeps.
struct Expect {
  double value;
  double scale;  // where the roundings happen
};

struct Unary {
  OpKind op;
  double lo, hi;  // input domain
  double ulps;
  bool transcendental;
  Attrs attrs;
  std::function<Expect(double)> ref;
};

struct Binary {
  OpKind op;
  double lo, hi;   // domain of both operands
  double b_lo, b_hi;  // domain of the second operand
  double ulps;
  bool same_shape_only;  // dropout: the mask has the activation's shape
  Attrs attrs;
  std::function<Expect(double, double)> ref;
};

Attrs with_slope(double s) { return SlopeAttrs{s}; }
Attrs affine_attrs() { return AffineAttrs{-1.75, 0.375}; }
Attrs keep(double p) {
  return DropoutAttrs{p};
}

const std::vector<Unary>& unary_cases() {
  static const std::vector<Unary> cases{
      {OpKind::neg, -8, 8, 0.5, false, {}, [](double x) { return Expect{-x, -x}; }},
      {OpKind::affine, -8, 8, 2.0, false, affine_attrs(),
       [](double x) { return Expect{-1.75 * x + 0.375, std::abs(1.75 * x) + 0.375}; }},
      {OpKind::square, -8, 8, 0.5, false, {}, [](double x) { return Expect{x * x, x * x}; }},
      {OpKind::sqrt, 1e-3, 100, 0.5, false, {}, [](double x) { return Expect{std::sqrt(x), std::sqrt(x)}; }},
      {OpKind::relu, -8, 8, 0.5, false, {}, [](double x) { return Expect{x > 0 ? x : 0.0, x}; }},
      {OpKind::leaky_relu, -8, 8, 0.5, false, with_slope(0.01),
       [](double x) {
         const double y = x > 0 ? x : double(float(0.01)) * x;
         return Expect{y, y};
       }},
      {OpKind::step, -8, 8, 0.5, false, with_slope(0.25), [](double x) { return Expect{x > 0 ? 1.0 : 0.25, 1.0}; }},
      {OpKind::exp, -20, 20, 1.0, true, {}, [](double x) { return Expect{std::exp(x), std::exp(x)}; }},
      {OpKind::log, 1e-3, 1e3, 1.0, true, {}, [](double x) { return Expect{std::log(x), std::log(x)}; }},
      {OpKind::tanh, -10, 10, 3.5, true, {}, [](double x) { return Expect{std::tanh(x), std::tanh(x)}; }},
      {OpKind::sigmoid, -20, 20, 2.5, true, {},
       [](double x) {
         const double y = 1.0 / (1.0 + std::exp(-x));
         return Expect{y, y};
       }},
  };
  return cases;
}

const std::vector<Binary>& binary_cases() {
  static const std::vector<Binary> cases{
      {OpKind::add, -8, 8, -8, 8, 0.5, false, {}, [](double a, double b) { return Expect{a + b, a + b}; }},
      {OpKind::sub, -8, 8, -8, 8, 0.5, false, {}, [](double a, double b) { return Expect{a - b, a - b}; }},
      {OpKind::mul, -8, 8, -8, 8, 0.5, false, {}, [](double a, double b) { return Expect{a * b, a * b}; }},
      {OpKind::div, -8, 8, 0.25, 8, 0.5, false, {}, [](double a, double b) { return Expect{a / b, a / b}; }},
      {OpKind::dropout, -8, 8, 0, 1.999, 0.5, true, keep(0.8),
       [](double a, double d) {
         const double y = a * std::floor(d) * double(float(1.0 / 0.8));
         return Expect{y, y};
       }},
      {OpKind::step_mul, -8, 8, -8, 8, 0.5, false, with_slope(0.01),
       [](double g, double x) {
         const double y = g * (x > 0 ? 1.0 : double(float(0.01)));
         return Expect{y, y};
       }},
      {OpKind::tanh_grad_mul, -8, 8, -1, 1, 3.0, false, {},
       [](double g, double a) { return Expect{g * (1 - a * a), std::abs(g) * (1 + a * a)}; }},
      {OpKind::sigmoid_grad_mul, -8, 8, 0, 1, 3.0, false, {},
       [](double g, double a) { return Expect{g * a * (1 - a), std::abs(g) * std::abs(a) * (1 + std::abs(a))}; }},
      // powf is within 1 ulp in glibc; both paths call it scalar.
      {OpKind::pow, 0.25, 4, -3, 3, 1.0, false, {},
       [](double a, double b) { return Expect{std::pow(a, b), std::pow(a, b)}; }},
  };
  return cases;
}

// The ops this file does not cover: leaves, products and reductions, costs,
// layout, the mask generator and assign (tested by their own files), and the
// fused optimizer updates, which tests/train/optimizer_test.cpp holds to the
// bits of the update loops they replace, in f32 and f64.
const std::set<OpKind> not_element_wise{
    OpKind::input,   OpKind::param,      OpKind::state,      OpKind::constant,       OpKind::matmul,
    OpKind::sum,     OpKind::broadcast,  OpKind::transpose,  OpKind::bce,            OpKind::bce_logits,
    OpKind::softmax, OpKind::softmax_ce, OpKind::categorical_ce, OpKind::mse,        OpKind::l2_penalty,
    OpKind::dropout_mask, OpKind::assign, OpKind::update, OpKind::allreduce_start, OpKind::allreduce_wait,
    OpKind::allreduce_part, OpKind::fused_net};

// The kernel's float outputs with the AVX2 paths on, then off (one plan, run
// twice on the same inputs).
struct Paths {
  std::vector<float> avx2, base;
};

template <class Build>
Paths run_f32(Build build, bool training = false) {
  test::OpHarness<float> h;
  const Expr y = build(h);
  runtime::Executor exec(h.g, {y.id});
  h.bind_all(exec, {y.id});
  runtime::RunOptions o;
  o.training = training;
  auto once = [&](bool simd) {
    const bool was = ops::set_simd(simd);
    exec.run(o);
    ops::set_simd(was);
    const auto v = exec.values<float>(y.id);
    return std::vector<float>(v.begin(), v.end());
  };
  Paths p;
  p.avx2 = once(true);
  p.base = once(false);
  return p;
}

// Fails with the element, its inputs and the error in ulps.
void check_bound(const std::vector<float>& got, const std::vector<Expect>& want, double ulps,
                 const std::string& what) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(double(got[i]) - want[i].value) / float_ulp(want[i].scale);
    if (!(err <= ulps)) {
      INFO(what << " element " << i << ": got " << got[i] << ", double gives " << want[i].value << ", "
                << err << " ulps > " << ulps);
      CHECK(err <= ulps);
      return;
    }
  }
}

void check_same_bits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i])) {
      INFO(what << " element " << i << ": AVX2 " << a[i] << ", baseline " << b[i]);
      CHECK(std::bit_cast<std::uint32_t>(a[i]) == std::bit_cast<std::uint32_t>(b[i]));
      return;
    }
}

std::vector<std::int64_t> lengths() {
  std::vector<std::int64_t> n;
  for (std::int64_t k = 1; k <= 40; ++k) n.push_back(k);
  n.push_back(100003);
  return n;
}

std::string name_of(OpKind op) { return std::string(ops::op_def(op).name); }

}  // namespace

TEST_CASE("every op is either an element-wise kernel checked in f32 here or listed as not element-wise",
          "[ops][f32]") {
  std::set<OpKind> covered{OpKind::matmul_bias};
  for (const Unary& u : unary_cases()) covered.insert(u.op);
  for (const Binary& b : binary_cases()) covered.insert(b.op);
  for (const ops::OpDef* d : ops::all_ops()) {
    INFO(d->name);
    CHECK(covered.count(d->kind) + not_element_wise.count(d->kind) == 1);
  }
}

TEST_CASE("unary kernels in f32 agree with double within their ulps, AVX2 and baseline alike", "[ops][f32]") {
  for (const Unary& u : unary_cases()) {
    for (const std::int64_t n : lengths()) {
      for (const bool in_place : {false, true}) {
        const std::string what = fmt::format("{} n={}{}", name_of(u.op), n, in_place ? " in place" : "");
        const std::vector<double> x = floats(n, u.lo, u.hi, n);
        // In place: the operand is an intermediate value (1 x + 0, exact)
        // that dies here, so the planner may run the op over it.
        auto build = [&](test::OpHarness<float>& h) {
          Expr X = h.input("X", {1, n}, x);
          Attrs id;
          if (in_place) X = h.g.add(OpKind::affine, {X.id}, id);
          return h.g.add(u.op, {X.id}, u.attrs);
        };
        std::vector<Expect> want;
        for (double v : x) want.push_back(u.ref(v));
        const Paths p = run_f32(build);
        check_bound(p.avx2, want, u.ulps, what + " (AVX2)");
        check_bound(p.base, want, u.ulps, what + " (baseline)");
        if (!u.transcendental) check_same_bits(p.avx2, p.base, what);
      }
    }
  }
}

TEST_CASE("binary kernels in f32 agree with double on every broadcast pattern and length", "[ops][f32]") {
  // (rows of A, cols of A), (rows of B, cols of B) for an output of r x n.
  struct Pattern {
    const char* name;
    bool a_rows, a_cols, b_rows, b_cols;  // true: full along that axis
  };
  const Pattern patterns[] = {{"full,full", 1, 1, 1, 1}, {"full,col", 1, 1, 1, 0}, {"full,row", 1, 1, 0, 1},
                              {"full,scalar", 1, 1, 0, 0}, {"col,full", 1, 0, 1, 1}, {"row,full", 0, 1, 1, 1},
                              {"scalar,full", 0, 0, 1, 1}};
  for (const Binary& op : binary_cases()) {
    for (const std::int64_t rows : {1, 2}) {
      for (const Pattern& p : patterns) {
        if (op.same_shape_only && std::string(p.name) != "full,full") continue;
        for (const std::int64_t n : lengths()) {
          const std::string what = fmt::format("{} {} rows={} n={}", name_of(op.op), p.name, rows, n);
          const Shape sa{p.a_rows ? rows : 1, p.a_cols ? n : 1}, sb{p.b_rows ? rows : 1, p.b_cols ? n : 1};
          const std::vector<double> a = floats(sa.size(), op.lo, op.hi, 2 * n + 1);
          const std::vector<double> b = floats(sb.size(), op.b_lo, op.b_hi, 2 * n + 2);
          std::vector<double> bm = b;
          if (op.op == OpKind::dropout)
            for (double& v : bm) v = std::floor(v);  // a 0/1 mask
          auto build = [&](test::OpHarness<float>& h) {
            const Expr A = h.input("A", sa, a), B = h.input("B", sb, bm);
            return h.g.add(op.op, {A.id, B.id}, op.attrs);
          };
          std::vector<Expect> want;
          for (std::int64_t i = 0; i < rows; ++i)
            for (std::int64_t j = 0; j < n; ++j)
              want.push_back(op.ref(test::broadcast_at(a, sa, i, j), test::broadcast_at(b, sb, i, j)));
          const Paths p = run_f32(build, op.op == OpKind::dropout);
          check_bound(p.avx2, want, op.ulps, what + " (AVX2)");
          check_bound(p.base, want, op.ulps, what + " (baseline)");
          check_same_bits(p.avx2, p.base, what);
        }
      }
    }
  }
}

TEST_CASE("matmul_bias in f32 agrees with a double GEMM plus bias, small and BLAS-sized", "[ops][f32]") {
  struct Size {
    std::int64_t m, k;
  };
  for (const Size s : {Size{3, 5}, Size{64, 300}}) {
    for (std::int64_t n : lengths()) {
      if (s.m == 64 && n < 40 && n % 13 != 1) continue;  // BLAS: a few widths suffice,
      if (s.m == 64 && n > 40) n = 1001;                  // and a wide odd one
      for (const bool ta : {false, true})
        for (const bool tb : {false, true}) {
          const std::string what = fmt::format("matmul_bias {}x{} * {}x{} ta={} tb={}", s.m, s.k, s.k, n, ta, tb);
          const Shape sa = ta ? Shape{s.k, s.m} : Shape{s.m, s.k};
          const Shape sb = tb ? Shape{n, s.k} : Shape{s.k, n};
          const std::vector<double> a = floats(sa.size(), -2, 2, 7 * n + 1), b = floats(sb.size(), -2, 2, 7 * n + 2);
          const std::vector<double> c = floats(s.m, -1, 1, 7 * n + 3);
          const MatmulAttrs attrs{0.5, ta, tb};
          auto build = [&](test::OpHarness<float>& h) {
            const Expr A = h.input("A", sa, a), B = h.input("B", sb, b), C = h.input("C", {s.m, 1}, c);
            return h.g.add(OpKind::matmul_bias, {A.id, B.id, C.id}, attrs);
          };
          auto at = [](const std::vector<double>& v, Shape sh, bool t, std::int64_t i, std::int64_t j) {
            return t ? v[static_cast<std::size_t>(j * sh.cols + i)] : v[static_cast<std::size_t>(i * sh.cols + j)];
          };
          std::vector<Expect> want;
          for (std::int64_t i = 0; i < s.m; ++i)
            for (std::int64_t j = 0; j < n; ++j) {
              double sum = 0, mag = 0;
              for (std::int64_t k = 0; k < s.k; ++k) {
                const double p = at(a, sa, ta, i, k) * at(b, sb, tb, k, j);
                sum += p;
                mag += std::abs(p);
              }
              want.push_back({0.5 * sum + c[static_cast<std::size_t>(i)], 0.5 * mag + std::abs(c[static_cast<std::size_t>(i)])});
            }
          const Paths p = run_f32(build);
          check_bound(p.avx2, want, double(s.k + 2), what + " (AVX2)");
          check_bound(p.base, want, double(s.k + 2), what + " (baseline)");
          check_same_bits(p.avx2, p.base, what);
        }
    }
  }
}
