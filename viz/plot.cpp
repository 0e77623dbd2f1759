#include "dagrad/viz/plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/viz/svg.hpp"

namespace dagrad::viz {

// ---- ticks ----------------------------------------------------------------------

namespace {

// A zero-width range cannot be mapped to pixels: widen it around its value,
// staying within the finite doubles (a constant cost of 1.7e308).
void widen_degenerate(double& lo, double& hi) {
  if (hi - lo > 1e-12 * std::max(std::abs(lo), std::abs(hi))) return;
  const double pad = lo != 0.0 ? std::abs(lo) * 0.1 : 1.0;
  const double big = std::numeric_limits<double>::max();
  lo = std::isfinite(lo - pad) ? lo - pad : -big;
  hi = std::isfinite(hi + pad) ? hi + pad : big;
}

// Number of ticks that step `s` puts on [lo, hi]: multiples k*s with lo <= k*s <= hi,
// or, when expanding, the multiples from floor(lo/s) to ceil(hi/s).
long tick_count(double lo, double hi, double s, bool expand) {
  const double eps = 1e-9;
  double first = expand ? std::floor(lo / s + eps) : std::ceil(lo / s - eps);
  double last = expand ? std::ceil(hi / s - eps) : std::floor(hi / s + eps);
  return static_cast<long>(last - first) + 1;
}

// The ticks of a finite range whose span hi - lo is itself finite.
AxisTicks ticks_in_range(double lo, double hi, int max_ticks, bool expand, double min_step) {
  // Smallest 1-2-5 step whose ticks fit in max_ticks; start a decade below span/max_ticks.
  double step = std::pow(10.0, std::floor(std::log10((hi - lo) / max_ticks)) - 1);
  for (int i = 0;; ++i) {
    double s = step * (i % 3 == 0 ? 1 : i % 3 == 1 ? 2 : 5) * std::pow(10.0, i / 3);
    if (s >= min_step && tick_count(lo, hi, s, expand) <= max_ticks) {
      step = s;
      break;
    }
  }
  const double eps = 1e-9;
  long first = static_cast<long>(expand ? std::floor(lo / step + eps) : std::ceil(lo / step - eps));
  long last = static_cast<long>(expand ? std::ceil(hi / step - eps) : std::floor(hi / step + eps));
  AxisTicks t;
  t.step = step;
  // Multiples of the step are computed as k*step so 0 is exactly 0, never -1e-17.
  for (long k = first; k <= last; ++k) t.values.push_back(static_cast<double>(k) * step);
  t.lo = expand ? t.values.front() : lo;
  t.hi = expand ? t.values.back() : hi;
  return t;
}

}  // namespace

AxisTicks nice_ticks(double lo, double hi, int max_ticks, bool expand, double min_step) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
    throw InputError(fmt::format("axis range [{:g}, {:g}] is not a finite interval", lo, hi));
  widen_degenerate(lo, hi);
  max_ticks = std::max(max_ticks, 2);
  // NOTE: near the largest double (a cost of 1e308) the span hi - lo and the
  // expanded end ticks overflow to inf. The ticks are then found on the range
  // scaled down by 2^-64 (exact: a power of two) and scaled back; a tick that
  // would be past the largest double is dropped, and the axis ends at the data.
  constexpr double scale = 0x1p-64;
  const bool huge = !std::isfinite(hi - lo) || std::max(std::abs(lo), std::abs(hi)) > 1e300;
  if (!huge) return ticks_in_range(lo, hi, max_ticks, expand, min_step);
  AxisTicks t = ticks_in_range(lo * scale, hi * scale, max_ticks, expand, min_step * scale);
  std::vector<double> kept;
  for (double v : t.values)
    if (std::isfinite(v / scale)) kept.push_back(v / scale);
  t.step /= scale;
  t.lo = std::isfinite(t.lo / scale) ? t.lo / scale : lo;
  t.hi = std::isfinite(t.hi / scale) ? t.hi / scale : hi;
  t.values = std::move(kept);
  return t;
}

// ---- axes drawing shared by both figures ------------------------------------------

namespace {

constexpr double kTickLen = 4.9;   // 3.5 pt at 100 dpi, as matplotlib
constexpr double kTickFont = 13.0;
constexpr double kLabelFont = 14.0;
constexpr double kTitleFont = 16.5;
constexpr std::string_view kSpine = "#262626";

struct Box {
  double left, top, right, bottom;
};

// A tick at pixel `pos`; `exponent` set means the label reads 10^exponent.
struct Tick {
  double value;
  double pos;
  std::string label;
  std::string exponent;
};

struct Axes {
  Box box;
  std::vector<Tick> xticks;
  std::vector<Tick> yticks;
  std::vector<double> yminor;  // pixel rows of unlabeled minor ticks
  std::string title, x_label, y_label;
};

// Halves first, so that values near the largest double do not overflow v - lo.
double to_pixel(double v, double lo, double hi, double p0, double p1) {
  return p0 + (0.5 * v - 0.5 * lo) / (0.5 * hi - 0.5 * lo) * (p1 - p0);
}

// Labels of a linear axis get as many decimals as the step needs: 0.05 -> 2.
// Below 1e-4 or from 1e6 up they are in {:g} form with the significant
// digits the step needs (2e+307, 1.5e-308), never hundreds of digits.
// Negative labels use the minus sign U+2212, as matplotlib does.
std::string linear_label(double v, double step) {
  std::string s;
  if (step >= 1e6 || step < 1e-4) {
    const double mag = std::max(std::abs(v), step);
    const int digits = static_cast<int>(std::floor(std::log10(mag)) - std::floor(std::log10(step) + 1e-9)) + 1;
    s = fmt::format("{:.{}g}", v, std::clamp(digits, 1, 17));
  } else {
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    s = fmt::format("{:.{}f}", v, decimals);
  }
  return s[0] == '-' ? "\u2212" + s.substr(1) : s;
}

std::vector<Tick> linear_ticks(const AxisTicks& t, double p0, double p1) {
  std::vector<Tick> out;
  for (double v : t.values) out.push_back({v, to_pixel(v, t.lo, t.hi, p0, p1), linear_label(v, t.step), ""});
  return out;
}

// Characters in UTF-8 text: bytes that do not continue a multi-byte sequence.
double glyphs(const std::string& s) {
  return static_cast<double>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// Width of the widest y tick label in px (DejaVu Sans digits are ~0.64 em).
double y_label_width(const std::vector<Tick>& ticks) {
  double w = 0;
  for (const auto& t : ticks) {
    double chars = glyphs(t.label) + 0.7 * glyphs(t.exponent);
    w = std::max(w, chars * 0.64 * kTickFont);
  }
  return w;
}

void draw_grid(SvgDocument& svg, const Axes& ax) {
  const Stroke grid{"#dcdcdc", 0.8};
  svg.begin_group(svg_attr("class", "grid"));
  for (const auto& t : ax.xticks) svg.line(t.pos, ax.box.top, t.pos, ax.box.bottom, grid);
  for (const auto& t : ax.yticks) svg.line(ax.box.left, t.pos, ax.box.right, t.pos, grid);
  svg.end_group();
}

// "10" with a raised exponent; the minus is U+2212 as in matplotlib's labels.
void power_label(SvgDocument& svg, double x, double y, const std::string& exponent) {
  std::string e = exponent;
  if (!e.empty() && e[0] == '-') e = "\u2212" + e.substr(1);
  svg.raw(fmt::format("<text{}{}{} text-anchor=\"end\">10<tspan dy=\"-6\"{}>{}</tspan></text>\n",
                      svg_attr("x", x), svg_attr("y", y), svg_attr("font-size", kTickFont),
                      svg_attr("font-size", kTickFont * 0.75), svg_escape(e)));
}

void draw_ticks(SvgDocument& svg, const Axes& ax) {
  const Stroke tick{kSpine, 0.8};
  const Box& b = ax.box;
  for (const auto& t : ax.xticks) {
    svg.begin_group(svg_attr("class", "xtick") + svg_attr("data-value", fmt::format("{}", t.value)));
    svg.line(t.pos, b.bottom, t.pos, b.bottom + kTickLen, tick);
    svg.text(t.pos, b.bottom + kTickLen + 3.5 + kTickFont * 0.8, t.label, {kTickFont, "middle"});
    svg.end_group();
  }
  for (const auto& t : ax.yticks) {
    svg.begin_group(svg_attr("class", "ytick") + svg_attr("data-value", fmt::format("{}", t.value)));
    svg.line(b.left - kTickLen, t.pos, b.left, t.pos, tick);
    double x = b.left - kTickLen - 3.5, y = t.pos + kTickFont * 0.36;
    if (t.exponent.empty()) {
      svg.text(x, y, t.label, {kTickFont, "end"});
    } else {
      power_label(svg, x, y + 2, t.exponent);
    }
    svg.end_group();
  }
  for (double y : ax.yminor) svg.line(b.left - kTickLen * 0.6, y, b.left, y, {kSpine, 0.6});
}

// Spines, ticks, axis labels and title: drawn last so they sit above the data.
void draw_axes(SvgDocument& svg, const Axes& ax) {
  const Box& b = ax.box;
  svg.rect(b.left, b.top, b.right - b.left, b.bottom - b.top, "none",
           svg_attr("class", "axes-frame") + svg_attr("stroke", kSpine) + svg_attr("stroke-width", 0.8));
  draw_ticks(svg, ax);
  double cx = (b.left + b.right) / 2, cy = (b.top + b.bottom) / 2;
  svg.text(cx, b.bottom + kTickLen + 3.5 + kTickFont + 6 + kLabelFont, ax.x_label,
           {kLabelFont, "middle"}, svg_attr("class", "xlabel"));
  double ylabel_x = b.left - kTickLen - 3.5 - y_label_width(ax.yticks) - 10;
  svg.text(ylabel_x, cy, ax.y_label, {kLabelFont, "middle", {}, -90.0}, svg_attr("class", "ylabel"));
  if (!ax.title.empty()) {
    svg.text(cx, b.top - 12, ax.title, {kTitleFont, "middle"}, svg_attr("class", "title"));
  }
}

// matplotlib's default subplot box (left .125, right .9, bottom .11, top .88),
// with the left edge moved right when long y tick labels need the room.
Box default_box(int width, int height, const std::vector<Tick>& yticks) {
  double left = std::max(0.125 * width, y_label_width(yticks) + kTickLen + 3.5 + 10 + kLabelFont + 8);
  return {left, 0.12 * height, 0.9 * width, 0.89 * height};
}

}  // namespace

// ---- cost curve ---------------------------------------------------------------------

namespace {

void check_costs(const std::string& path, std::span<const std::int64_t> iterations,
                 std::span<const double> costs, bool log_scale) {
  if (iterations.size() != costs.size()) {
    throw InputError(fmt::format("cost plot '{}': {} iterations but {} costs", path,
                                 iterations.size(), costs.size()));
  }
  if (costs.empty()) throw InputError(fmt::format("cost plot '{}': no cost rows to plot", path));
  for (std::size_t i = 0; i < costs.size(); ++i) {
    if (!std::isfinite(costs[i])) {
      throw InputError(fmt::format("cost plot '{}': cost row {} (iteration {}) is {}; "
                                   "every cost must be a finite number",
                                   path, i, iterations[i], costs[i]));
    }
    if (log_scale && costs[i] <= 0.0) {
      throw InputError(fmt::format("cost plot '{}': cost row {} (iteration {}) is {} but a "
                                   "log-scale y axis needs every cost > 0",
                                   path, i, iterations[i], costs[i]));
    }
  }
}

// Decades 10^k covering [lo, hi]; more than 7 decades are thinned to every n-th.
AxisTicks log_decades(double lo, double hi) {
  double a = std::floor(std::log10(lo) + 1e-12);
  double b = std::ceil(std::log10(hi) - 1e-12);
  if (b <= a) b = a + 1;
  double step = std::max(1.0, std::ceil((b - a) / 7));
  a = std::floor(a / step) * step;
  b = std::ceil(b / step) * step;
  AxisTicks t;
  t.lo = a;
  t.hi = b;
  t.step = step;
  for (double k = a; k <= b + 0.5; k += step) t.values.push_back(k);
  return t;
}

// Y ticks of a log axis: labels 10^k, positions in log10 space; minor ticks at
// 2..9 x 10^k when the decades are consecutive and few.
std::vector<Tick> log_ticks(const AxisTicks& t, double p0, double p1, std::vector<double>& minor) {
  std::vector<Tick> out;
  for (double k : t.values) {
    // A decade past the doubles (10^348 when thinned ticks reach beyond
    // 1.8e308) bounds the axis but gets no tick.
    const double v = std::pow(10.0, k);
    if (!std::isfinite(v) || v == 0.0) continue;
    out.push_back({v, to_pixel(k, t.lo, t.hi, p0, p1), "10", fmt::format("{}", static_cast<long>(k))});
  }
  if (t.step == 1.0 && t.hi - t.lo <= 6) {
    for (double k = t.lo; k < t.hi; k += 1.0) {
      for (int m = 2; m <= 9; ++m) minor.push_back(to_pixel(k + std::log10(m), t.lo, t.hi, p0, p1));
    }
  }
  return out;
}

}  // namespace

void write_cost_plot(const std::string& path, std::span<const std::int64_t> iterations,
                     std::span<const double> costs, const CostPlotOptions& options) {
  check_costs(path, iterations, costs, options.log_scale);
  auto [imin, imax] = std::minmax_element(iterations.begin(), iterations.end());
  auto [cmin, cmax] = std::minmax_element(costs.begin(), costs.end());
  AxisTicks xt = nice_ticks(static_cast<double>(*imin), static_cast<double>(*imax), 8, true, 1.0);
  AxisTicks yt = options.log_scale ? log_decades(*cmin, *cmax) : nice_ticks(*cmin, *cmax, 8, true);

  // The y ticks fix the left margin, so lay them out against a provisional box first.
  Axes ax;
  double top = 0.12 * options.height, bottom = 0.89 * options.height;
  ax.yticks = options.log_scale ? log_ticks(yt, bottom, top, ax.yminor) : linear_ticks(yt, bottom, top);
  ax.box = default_box(options.width, options.height, ax.yticks);
  ax.xticks = linear_ticks(xt, ax.box.left, ax.box.right);
  ax.title = options.title;
  ax.x_label = options.x_label;
  ax.y_label = options.y_label;

  std::vector<double> px(costs.size()), py(costs.size());
  for (std::size_t i = 0; i < costs.size(); ++i) {
    px[i] = to_pixel(static_cast<double>(iterations[i]), xt.lo, xt.hi, ax.box.left, ax.box.right);
    double y = options.log_scale ? std::log10(costs[i]) : costs[i];
    py[i] = to_pixel(y, yt.lo, yt.hi, bottom, top);
  }
  SvgDocument svg(options.width, options.height);
  draw_grid(svg, ax);
  svg.polyline(px, py, {options.color, 1.5},
               svg_attr("class", "cost-curve") + svg_attr("stroke-linejoin", "round"));
  // A lone row would be an invisible zero-length line: mark it with a dot too.
  if (costs.size() == 1) svg.circle(px[0], py[0], 3, options.color, {options.color, 0});
  draw_axes(svg, ax);
  write_figure(path, svg.str());
}

// ---- decision boundary ------------------------------------------------------------------

namespace {

void check_points(const std::string& path, std::span<const double> x1, std::span<const double> x2,
                  std::span<const double> labels, int grid_size) {
  if (x1.size() != x2.size() || x1.size() != labels.size()) {
    throw InputError(fmt::format("boundary plot '{}': {} x1 values, {} x2 values and {} labels "
                                 "must have the same length",
                                 path, x1.size(), x2.size(), labels.size()));
  }
  if (x1.empty()) throw InputError(fmt::format("boundary plot '{}': no points to plot", path));
  if (grid_size < 2 || grid_size > 2000) {
    throw InputError(fmt::format("boundary plot '{}': grid_size {} is outside [2, 2000]", path, grid_size));
  }
  for (std::size_t i = 0; i < x1.size(); ++i) {
    if (!std::isfinite(x1[i]) || !std::isfinite(x2[i])) {
      throw InputError(fmt::format("boundary plot '{}': point {} is ({}, {}); coordinates must "
                                   "be finite", path, i, x1[i], x2[i]));
    }
    if (labels[i] != 0.0 && labels[i] != 1.0) {
      throw InputError(fmt::format("boundary plot '{}': label {} is {}; labels must be 0 or 1",
                                   path, i, labels[i]));
    }
  }
}

struct Range {
  double lo, hi;
};

// NOTE: the pad is taken from half the span and the ends are clamped, so data
// near the largest double does not pad the range to inf.
Range padded_range(std::span<const double> v, double margin) {
  auto [mn, mx] = std::minmax_element(v.begin(), v.end());
  double lo = *mn, hi = *mx;
  widen_degenerate(lo, hi);
  const double pad = 2.0 * margin * (0.5 * hi - 0.5 * lo);
  const double big = std::numeric_limits<double>::max();
  return {std::isfinite(lo - pad) ? lo - pad : -big, std::isfinite(hi + pad) ? hi + pad : big};
}

// The grid's cell centres, row j (bottom to top) by column i (left to right),
// flattened as k = j*n + i; predicts all n^2 cells in one call.
std::vector<char> classify_grid(const std::string& path, Range xr, Range yr, int n,
                                const BatchPredictor& predict) {
  std::size_t cells = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  std::vector<double> gx1(cells), gx2(cells), prob(cells, std::nan(""));
  // lo + f (hi - lo) with the span halved, so that it cannot overflow.
  auto at = [n](Range r, int k) {
    const double f = (k + 0.5) / n, half = 0.5 * r.hi - 0.5 * r.lo;
    return r.lo + f * half + f * half;
  };
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) {
      gx1[static_cast<std::size_t>(j) * n + i] = at(xr, i);
      gx2[static_cast<std::size_t>(j) * n + i] = at(yr, j);
    }
  }
  predict(gx1, gx2, prob);
  std::vector<char> cls(cells);
  for (std::size_t k = 0; k < cells; ++k) {
    if (std::isnan(prob[k])) {
      throw InputError(fmt::format("boundary plot '{}': the predictor returned NaN at grid point "
                                   "({}, {})", path, gx1[k], gx2[k]));
    }
    cls[k] = prob[k] > 0.5 ? 1 : 0;
  }
  return cls;
}

// One rect per run of equal class along a grid row keeps the file small
// (a few hundred rects instead of n^2 cells).
void draw_regions(SvgDocument& svg, const Box& b, const std::vector<char>& cls, int n,
                  const BoundaryPlotOptions& o) {
  svg.begin_group(svg_attr("class", "regions") + svg_attr("shape-rendering", "crispEdges"));
  double cw = (b.right - b.left) / n, ch = (b.bottom - b.top) / n;
  for (int j = 0; j < n; ++j) {
    double y = b.bottom - (j + 1) * ch;  // row 0 is at the bottom of the axes
    for (int i = 0; i < n;) {
      int start = i;
      char c = cls[static_cast<std::size_t>(j) * n + i];
      while (i < n && cls[static_cast<std::size_t>(j) * n + i] == c) ++i;
      svg.rect(b.left + start * cw, y, (i - start) * cw, ch, c ? o.region_color1 : o.region_color0);
    }
  }
  svg.end_group();
}

// The key, in one row above the title: each point colour
// and region colour with what it means.
void draw_boundary_legend(SvgDocument& svg, const Box& b, double y, const BoundaryPlotOptions& o) {
  svg.begin_group(svg_attr("class", "legend"));
  const std::pair<std::string_view, std::string_view> points[] = {{o.point_color0, "label 0"},
                                                                   {o.point_color1, "label 1"}};
  const std::pair<std::string_view, std::string_view> regions[] = {{o.region_color0, "predicted 0 (P <= 0.5)"},
                                                                    {o.region_color1, "predicted 1 (P > 0.5)"}};
  const TextStyle small{11.0, "start"};  // alphabetic baseline, 4 px below the marks' centre
  double x = b.left;
  for (const auto& [colour, what] : points) {
    svg.circle(x + 5, y, 4, colour, {"#222222", 0.5});
    svg.text(x + 13, y + 4, what, small);
    x += 70;
  }
  for (const auto& [colour, what] : regions) {
    svg.rect(x, y - 6, 12, 12, colour, svg_attr("stroke", "#999999"));
    svg.text(x + 17, y + 4, what, small);
    x += 150;
  }
  svg.end_group();
}

}  // namespace

void write_boundary_plot(const std::string& path, std::span<const double> x1,
                         std::span<const double> x2, std::span<const double> labels,
                         const BatchPredictor& predict, const BoundaryPlotOptions& options) {
  check_points(path, x1, x2, labels, options.grid_size);
  Range xr = padded_range(x1, options.margin), yr = padded_range(x2, options.margin);
  std::vector<char> cls = classify_grid(path, xr, yr, options.grid_size, predict);

  Axes ax;
  double top = 0.12 * options.height, bottom = 0.89 * options.height;
  ax.yticks = linear_ticks(nice_ticks(yr.lo, yr.hi, 8, false), bottom, top);
  ax.box = default_box(options.width, options.height, ax.yticks);
  ax.xticks = linear_ticks(nice_ticks(xr.lo, xr.hi, 8, false), ax.box.left, ax.box.right);
  ax.title = options.title;
  ax.x_label = options.x_label;
  ax.y_label = options.y_label;

  SvgDocument svg(options.width, options.height);
  draw_regions(svg, ax.box, cls, options.grid_size, options);
  svg.begin_group(svg_attr("class", "points"));
  for (std::size_t i = 0; i < x1.size(); ++i) {
    double px = to_pixel(x1[i], xr.lo, xr.hi, ax.box.left, ax.box.right);
    double py = to_pixel(x2[i], yr.lo, yr.hi, bottom, top);
    svg.circle(px, py, 4, labels[i] == 1.0 ? options.point_color1 : options.point_color0,
               {"#222222", 0.5});
  }
  svg.end_group();
  draw_axes(svg, ax);
  draw_boundary_legend(svg, ax.box, ax.box.top - 42, options);  // above the title
  write_figure(path, svg.str());
}

}  // namespace dagrad::viz
