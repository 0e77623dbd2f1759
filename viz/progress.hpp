// A one-line training progress bar for terminals:
//   [#########.....................] 1200/2500  812 it/s  ETA 1.6s  cost 0.312
// redrawn in place at most every `min_interval` seconds. On a stream that is not
// a terminal it prints nothing: logs get the trainer's own "Cost after ..." lines.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace dagrad::viz {

class ProgressBar {
 public:
  enum class Mode { automatic, terminal, silent };  // automatic: isatty(fileno(out))

  struct Options {
    Mode mode = Mode::automatic;
    std::function<double()> clock;  // seconds, monotonic; empty = std::chrono::steady_clock
    double min_interval = 0.1;      // seconds between redraws (at most ~10 per second)
    int bar_width = 30;
  };

  ProgressBar(std::int64_t total, std::FILE* out = stdout);
  ProgressBar(std::int64_t total, std::FILE* out, Options options);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `iteration` iterations of `total` are done and the latest cost is `cost`.
  // Redraws when min_interval has passed since the last draw, on the first
  // call, and when iteration reaches total.
  void update(std::int64_t iteration, double cost);
  // Draws the final state and ends the line; later calls do nothing.
  void finish();

  bool active() const { return active_; }
  // The bar's text for a state `elapsed` seconds after construction, without the
  // leading "\r" and trailing clear-to-end-of-line that update() adds.
  std::string render(std::int64_t iteration, double cost, double elapsed) const;

 private:
  void draw(double now);
  double now() const;

  std::int64_t total_;
  std::FILE* out_;
  Options options_;
  bool active_;
  bool finished_ = false;
  double start_ = 0;
  double last_draw_ = 0;
  bool drawn_ = false;
  bool dirty_ = false;  // an update since the last draw
  std::int64_t iteration_ = 0;
  double cost_ = 0;
};

// "1.6s", "2m05s", "1h02m": a duration in seconds as the bar shows it.
std::string format_duration(double seconds);

// A cost or metric for a line of text: six decimals, as the notes print
// them (0.693147), while that is readable; otherwise six significant digits
// (1.23457e+300, 1.5e-09), never the 300 digits of a diverged cost in fixed
// notation. nan and inf print as such. Every cost the CLI prints uses it.
std::string format_cost(double value);

}  // namespace dagrad::viz
