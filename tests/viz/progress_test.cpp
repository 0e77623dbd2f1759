// The progress bar is driven by an injected clock and written to a tmpfile(),
// whose contents are read back and compared with lines worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "dagrad/graph/error.hpp"
#include "dagrad/viz/progress.hpp"

using namespace dagrad::viz;

namespace {

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[256];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

struct Fixture {
  std::FILE* file = std::tmpfile();
  double t = 0;
  ProgressBar::Options terminal(int width = 10) {
    ProgressBar::Options o;
    o.mode = ProgressBar::Mode::terminal;
    o.clock = [this] { return t; };
    o.bar_width = width;
    return o;
  }
  ~Fixture() { std::fclose(file); }
};

}  // namespace

TEST_CASE("progress bar draws bar, count, rate, ETA and cost", "[viz]") {
  Fixture fx;
  REQUIRE(fx.file);
  ProgressBar bar(2500, fx.file, fx.terminal());
  fx.t = 1.5;
  bar.update(1200, 0.3124);
  // 1200 of 2500 in 1.5 s: 800 it/s; 1300 left / 800 = 1.625 s; 1200*10/2500 = 4 '#'.
  CHECK(contents(fx.file) == "\r[####......] 1200/2500  800 it/s  ETA 1.6s  cost 0.312\x1b[K");
}

TEST_CASE("progress bar render pads the count and says -- before any time has passed", "[viz]") {
  Fixture fx;
  ProgressBar bar(2500, fx.file, fx.terminal(4));
  CHECK(bar.render(5, 0.693, 0.0) == "[....]    5/2500  -- it/s  ETA --  cost 0.693");
  // 50 iterations in 20 s: 2.5 it/s, 2450 left -> 980 s = 16m20s.
  CHECK(bar.render(50, 0.5, 20.0) == "[....]   50/2500  2.5 it/s  ETA 16m20s  cost 0.5");
  CHECK(bar.render(2500, 0.05, 10.0) == "[####] 2500/2500  250 it/s  ETA 0.0s  cost 0.05");
}

TEST_CASE("progress bar redraws at most every 0.1 s, always at the end, then ends the line", "[viz]") {
  Fixture fx;
  ProgressBar bar(100, fx.file, fx.terminal());
  bar.update(1, 0.7);   // first update draws (t = 0)
  fx.t = 0.05;
  bar.update(2, 0.69);  // too soon: skipped
  fx.t = 0.09;
  bar.update(3, 0.68);  // still too soon
  fx.t = 0.2;
  bar.update(4, 0.67);  // 0.2 s after the first draw: drawn
  fx.t = 0.21;
  bar.update(100, 0.1);  // the last iteration is always drawn
  bar.finish();
  bar.finish();          // idempotent
  std::string out = contents(fx.file);
  CHECK(count(out, "\r") == 3);
  CHECK(count(out, "cost 0.69") == 0);
  CHECK(count(out, "cost 0.67") == 1);
  CHECK(out.size() >= 1);
  CHECK(out.back() == '\n');
  CHECK(count(out, "\n") == 1);
  CHECK(count(out, "100/100") == 1);
}

TEST_CASE("finish draws a pending update that the throttle skipped", "[viz]") {
  Fixture fx;
  {
    ProgressBar bar(10, fx.file, fx.terminal());
    bar.update(1, 0.9);
    fx.t = 0.01;
    bar.update(5, 0.4);  // skipped by the throttle
  }                      // the destructor finishes
  std::string out = contents(fx.file);
  CHECK(count(out, "\r") == 2);
  CHECK(count(out, "5/10") == 1);
  CHECK(out.back() == '\n');
}

TEST_CASE("progress bar prints nothing when the stream is not a terminal", "[viz]") {
  Fixture fx;
  {
    ProgressBar bar(10, fx.file);  // automatic: a tmpfile is not a tty
    CHECK_FALSE(bar.active());
    for (int i = 1; i <= 10; ++i) bar.update(i, 1.0 / i);
    bar.finish();
  }
  ProgressBar::Options silent;
  silent.mode = ProgressBar::Mode::silent;
  ProgressBar quiet(10, fx.file, silent);
  quiet.update(10, 0.1);
  quiet.finish();
  CHECK(contents(fx.file).empty());
}

TEST_CASE("progress bar durations and a negative total", "[viz]") {
  CHECK(format_duration(1.62) == "1.6s");
  CHECK(format_duration(125) == "2m05s");
  CHECK(format_duration(3720) == "1h02m");
  CHECK(format_duration(-1) == "--");
  CHECK_THROWS_AS(ProgressBar(-1, stdout), dagrad::InputError);
}

TEST_CASE("format_cost: six decimals while readable, six significant digits otherwise", "[viz]") {
  CHECK(format_cost(0.6931471805599453) == "0.693147");
  CHECK(format_cost(0) == "0.000000");
  CHECK(format_cost(-12.5) == "-12.500000");
  // A diverged cost: 1e300 in fixed notation would be 301 digits.
  CHECK(format_cost(1e300) == "1e+300");
  CHECK(format_cost(-2.5e12) == "-2.5e+12");
  CHECK(format_cost(1.5e-9) == "1.5e-09");
  CHECK(format_cost(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(format_cost(std::nan("")) == "nan");
}
