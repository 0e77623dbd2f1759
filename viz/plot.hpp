// Figures of training, drawn as SVG in the style of the notes' matplotlib
// pictures: the cost curve (cost against iterations) and the decision
// boundary of a 2-feature classifier over its data points. The output format
// follows the path's extension: .svg, or .png/.pdf through rsvg-convert.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace dagrad::viz {

// Tick positions of one axis. Steps are 1, 2 or 5 times a power of ten; with
// `expand` the axis limits [lo, hi] are widened to the enclosing ticks so the
// ticks cover the data, otherwise they stay as given and the ticks lie inside.
struct AxisTicks {
  double lo = 0;
  double hi = 1;
  double step = 1;
  std::vector<double> values;
};
AxisTicks nice_ticks(double lo, double hi, int max_ticks = 8, bool expand = true,
                     double min_step = 0.0);

struct CostPlotOptions {
  std::string title;                  // e.g. "Learning rate = 0.0075"
  bool log_scale = false;             // log10 y axis; every cost must be > 0
  std::string x_label = "iterations";
  std::string y_label = "cost";
  int width = 640;                    // px, matplotlib's default 6.4 x 4.8 in at 100 dpi
  int height = 480;
  std::string color = "#1f77b4";      // the curve
};

// Cost curve: one polyline with a point per (iterations[i], costs[i]) row.
// Throws InputError on empty or mismatched spans, a NaN/Inf cost, or a cost
// <= 0 with log_scale, naming the row; writes `path` atomically.
void write_cost_plot(const std::string& path, std::span<const std::int64_t> iterations,
                     std::span<const double> costs, const CostPlotOptions& options = {});

// predict(gx1, gx2, prob): fills prob[k] = P(y = 1 | x1 = gx1[k], x2 = gx2[k]).
using BatchPredictor = std::function<void(std::span<const double> gx1,
                                          std::span<const double> gx2, std::span<double> prob)>;

struct BoundaryPlotOptions {
  std::string title;                      // e.g. "Decision boundary, hidden size 4"
  std::string x_label = "x1";
  std::string y_label = "x2";
  int grid_size = 200;                    // predictions per axis: grid_size^2 in one call
  double margin = 0.1;                    // fraction of the data range added on each side
  int width = 640;
  int height = 480;
  std::string region_color0 = "#f6c6bd";  // prob <= 0.5
  std::string region_color1 = "#bcd5ea";  // prob > 0.5
  std::string point_color0 = "#d62728";   // label 0
  std::string point_color1 = "#1f77b4";   // label 1
};

// Decision boundary: evaluates `predict` once on a grid_size x grid_size grid
// over the data range (plus margin), fills each cell by prob > 0.5 and draws the
// m points (x1[i], x2[i]) coloured by labels[i] in {0, 1}. Throws InputError on
// mismatched lengths, NaN/Inf coordinates, labels other than 0/1, or a
// predictor that returns NaN.
void write_boundary_plot(const std::string& path, std::span<const double> x1,
                         std::span<const double> x2, std::span<const double> labels,
                         const BatchPredictor& predict, const BoundaryPlotOptions& options = {});

}  // namespace dagrad::viz
