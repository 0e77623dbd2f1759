#include "dagrad/viz/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::viz {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  if (seconds < 59.95) return fmt::format("{:.1f}s", seconds);
  auto s = static_cast<long long>(std::llround(seconds));
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

namespace {

bool is_terminal(std::FILE* out, ProgressBar::Mode mode) {
  if (mode == ProgressBar::Mode::terminal) return true;
  if (mode == ProgressBar::Mode::silent || out == nullptr) return false;
  return ::isatty(::fileno(out)) == 1;
}

std::string format_rate(double rate) {
  if (!(rate > 0) || !std::isfinite(rate)) return "-- it/s";
  return rate >= 100 ? fmt::format("{:.0f} it/s", rate) : fmt::format("{:.1f} it/s", rate);
}

}  // namespace

ProgressBar::ProgressBar(std::int64_t total, std::FILE* out) : ProgressBar(total, out, Options{}) {}

ProgressBar::ProgressBar(std::int64_t total, std::FILE* out, Options options)
    : total_(total), out_(out), options_(std::move(options)) {
  if (total < 0) throw InputError(fmt::format("progress bar: total iterations {} is negative", total));
  active_ = out_ != nullptr && is_terminal(out_, options_.mode);
  options_.bar_width = std::max(options_.bar_width, 1);
  start_ = now();
}

ProgressBar::~ProgressBar() {
  try {
    finish();
  } catch (...) {
    // NOTE: a failing write to the terminal must not escape a destructor.
  }
}

double ProgressBar::now() const {
  if (options_.clock) return options_.clock();
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string ProgressBar::render(std::int64_t iteration, double cost, double elapsed) const {
  std::int64_t done = std::clamp<std::int64_t>(iteration, 0, total_);
  const std::int64_t width = options_.bar_width;
  std::int64_t filled = total_ > 0 ? done * width / total_ : width;
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::string eta = rate > 0 ? format_duration(static_cast<double>(total_ - done) / rate) : "--";
  std::string total_text = fmt::format("{}", total_);
  return fmt::format("[{}{}] {:>{}}/{}  {}  ETA {}  cost {:.3g}", std::string(filled, '#'),
                     std::string(width - filled, '.'), done, total_text.size(), total_text,
                     format_rate(rate), eta, cost);
}

void ProgressBar::draw(double t) {
  // "\r" returns to the line start; ESC[K erases what a longer earlier line left.
  fmt::print(out_, "\r{}\x1b[K", render(iteration_, cost_, t - start_));
  std::fflush(out_);
  drawn_ = true;
  dirty_ = false;
  last_draw_ = t;
}

void ProgressBar::update(std::int64_t iteration, double cost) {
  if (!active_ || finished_) return;
  iteration_ = iteration;
  cost_ = cost;
  double t = now();
  if (!drawn_ || t - last_draw_ >= options_.min_interval || iteration >= total_) {
    draw(t);
  } else {
    dirty_ = true;
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!active_ || !drawn_) return;  // nothing was ever shown: leave the line alone
  if (dirty_) draw(now());
  fmt::print(out_, "\n");
  std::fflush(out_);
}

std::string format_cost(double value) {
  const double a = std::fabs(value);
  if (std::isfinite(value) && (a == 0 || (a >= 1e-4 && a < 1e6))) return fmt::format("{:.6f}", value);
  return fmt::format("{:.6g}", value);
}

}  // namespace dagrad::viz
