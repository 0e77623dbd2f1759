// The vectorized transcendentals (ops/vecmath.hpp) against the C library in
// higher precision, in ulps of the result; and the two small numeric tools
// of ops/kernels.hpp: the bitwise select and the compensated sum.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dagrad/ops/kernels.hpp"
#include "dagrad/ops/vecmath.hpp"

using namespace dagrad::ops;

namespace {

// |got - want| in units of the float spacing at want (want computed in double).
double ulps_f(float got, double want) {
  const float w = static_cast<float>(want);
  const double ulp = std::nextafter(std::abs(w), std::numeric_limits<float>::infinity()) - std::abs(w);
  return std::abs(double(got) - want) / ulp;
}

double ulps_d(double got, long double want) {
  const double w = static_cast<double>(want);
  const long double ulp = std::nextafter(std::abs(w), std::numeric_limits<double>::infinity()) - std::abs(w);
  return static_cast<double>(std::abs((long double)got - want) / ulp);
}

// Dense points over [lo, hi], with an odd count so the lanes' tail is used.
template <class T>
std::vector<T> sweep(double lo, double hi, int n = 200001) {
  std::vector<T> x(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = static_cast<T>(lo + (hi - lo) * i / (n - 1));
  return x;
}

template <class F, class Ref>
double worst_f(F f, Ref ref, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  f(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, ulps_f(y[i], ref(double(x[i]))));
  return worst;
}

template <class F, class Ref>
double worst_d(F f, Ref ref, const std::vector<double>& x) {
  std::vector<double> y(x.size());
  f(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, ulps_d(y[i], ref(static_cast<long double>(x[i]))));
  return worst;
}

}  // namespace

TEST_CASE("float transcendentals stay within SLEEF's stated error bounds", "[ops]") {
  using F = void (*)(const float*, float*, std::int64_t);
  // SLEEF's bounds: 3.5 ulp for the tanh variant used, 1 ulp for exp and log.
  // sigmoid and the BCE tail add one or two roundings on top of exp.
  CHECK(worst_f(F(vec::tanh), [](double v) { return std::tanh(v); }, sweep<float>(-12, 12)) <= 3.5);
  CHECK(worst_f(F(vec::tanh), [](double v) { return std::tanh(v); }, sweep<float>(-1e-3, 1e-3)) <= 3.5);
  CHECK(worst_f(F(vec::exp), [](double v) { return std::exp(v); }, sweep<float>(-80, 80)) <= 1.0);
  CHECK(worst_f(F(vec::log), [](double v) { return std::log(v); }, sweep<float>(1e-30, 1e3)) <= 1.0);
  CHECK(worst_f(F(vec::sigmoid), [](double v) { return 1 / (1 + std::exp(-v)); }, sweep<float>(-80, 30)) <= 2.5);
  CHECK(worst_f(F(vec::softplus_neg_abs), [](double v) { return std::log1p(std::exp(-std::abs(v))); },
                sweep<float>(-60, 60)) <= 2.5);
}

TEST_CASE("double transcendentals stay within 1 ulp", "[ops]") {
  using F = void (*)(const double*, double*, std::int64_t);
  CHECK(worst_d(F(vec::tanh), [](long double v) { return std::tanh(v); }, sweep<double>(-20, 20)) <= 1.0);
  CHECK(worst_d(F(vec::exp), [](long double v) { return std::exp(v); }, sweep<double>(-700, 700)) <= 1.0);
  CHECK(worst_d(F(vec::log), [](long double v) { return std::log(v); }, sweep<double>(1e-300, 1e6)) <= 1.0);
}

TEST_CASE("vectorized functions keep NaN, infinities and their limits", "[ops]") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x{nan, inf, -inf, 0.0f, -0.0f}, y(5);
  vec::tanh(x.data(), y.data(), 5);
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == 1.0f);
  CHECK(y[2] == -1.0f);
  CHECK(y[3] == 0.0f);
  vec::exp(x.data(), y.data(), 5);
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == inf);
  CHECK(y[2] == 0.0f);
  CHECK(y[3] == 1.0f);
  vec::sigmoid(x.data(), y.data(), 5);
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == 1.0f);
  CHECK(y[2] == 0.0f);
  CHECK(y[3] == 0.5f);
  std::vector<float> l{-1.0f, 0.0f, inf}, ly(3);
  vec::log(l.data(), ly.data(), 3);
  CHECK(std::isnan(ly[0]));
  CHECK(ly[1] == -inf);
  CHECK(ly[2] == inf);
}

TEST_CASE("select picks bit patterns unchanged: NaN, -0 and infinities", "[ops]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(select(true, 2.5f, -1.0f) == 2.5f);
  CHECK(select(false, 2.5f, -1.0f) == -1.0f);
  CHECK(std::isnan(select(true, nan, 1.0f)));
  CHECK(std::signbit(select(false, 1.0, -0.0)));
  CHECK(select(false, 0.0, -std::numeric_limits<double>::infinity()) ==
        -std::numeric_limits<double>::infinity());
}

TEST_CASE("the compensated sum keeps digits a plain double sum loses", "[ops]") {
  // 1 + 10000 * 2^-60: a plain sum never moves off 1; the exact sum is
  // 1 + 10000 * 2^-60, which a double holds to within half an ulp.
  std::vector<double> t(10001, std::ldexp(1.0, -60));
  t[0] = 1.0;
  double plain = 0;
  for (double v : t) plain += v;
  CHECK(plain == 1.0);
  CompensatedSum4 s;
  s.add(t.data(), static_cast<std::int64_t>(t.size()));
  const long double exact = 1.0L + 10000.0L * std::ldexp(1.0L, -60);
  CHECK(std::abs((long double)s.value() - exact) <= std::ldexp(1.0L, -53));
  // Cancellation: big terms that cancel exactly around small ones.
  std::vector<double> c{1e16, 3.0, -1e16, 4.0, 1e-3, 1e16, -1e16};
  CompensatedSum4 s2;
  s2.add(c.data(), static_cast<std::int64_t>(c.size()));
  CHECK(std::abs(s2.value() - (7.0 + 1e-3)) <= 1e-15);
}
