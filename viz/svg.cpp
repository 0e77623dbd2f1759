#include "dagrad/viz/svg.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/child_process.hpp"
#include "dagrad/viz/renderer.hpp"

namespace dagrad::viz {

std::string svg_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_number(double v) {
  std::string s = fmt::format("{:.2f}", v);
  // Drop trailing zeros and a bare point: "12.50" -> "12.5", "3.00" -> "3".
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0" || s.empty()) return std::string("0");
  return s;
}

std::string svg_attr(std::string_view name, std::string_view value) {
  return fmt::format(" {}=\"{}\"", name, svg_escape(value));
}

std::string svg_attr(std::string_view name, double value) {
  return fmt::format(" {}=\"{}\"", name, svg_number(value));
}

namespace {

std::string stroke_attrs(const Stroke& s) {
  std::string a = svg_attr("stroke", s.color) + svg_attr("stroke-width", s.width);
  if (!s.dash.empty()) a += svg_attr("stroke-dasharray", s.dash);
  return a;
}

}  // namespace

SvgDocument::SvgDocument(double width, double height) : width_(width), height_(height) {
  rect(0, 0, width, height, "white");
}

void SvgDocument::rect(double x, double y, double w, double h, std::string_view fill,
                       std::string_view extra) {
  body_ += fmt::format("<rect{}{}{}{}{}{}/>\n", svg_attr("x", x), svg_attr("y", y),
                       svg_attr("width", w), svg_attr("height", h), svg_attr("fill", fill), extra);
}

void SvgDocument::line(double x1, double y1, double x2, double y2, const Stroke& stroke,
                       std::string_view extra) {
  body_ += fmt::format("<line{}{}{}{}{}{}/>\n", svg_attr("x1", x1), svg_attr("y1", y1),
                       svg_attr("x2", x2), svg_attr("y2", y2), stroke_attrs(stroke), extra);
}

void SvgDocument::polyline(std::span<const double> xs, std::span<const double> ys,
                           const Stroke& stroke, std::string_view extra) {
  std::string points;
  points.reserve(xs.size() * 16);
  for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    if (i) points += ' ';
    points += svg_number(xs[i]);
    points += ',';
    points += svg_number(ys[i]);
  }
  body_ += fmt::format("<polyline points=\"{}\" fill=\"none\"{}{}/>\n", points,
                       stroke_attrs(stroke), extra);
}

void SvgDocument::circle(double cx, double cy, double r, std::string_view fill,
                         const Stroke& edge, std::string_view extra) {
  body_ += fmt::format("<circle{}{}{}{}{}{}/>\n", svg_attr("cx", cx), svg_attr("cy", cy),
                       svg_attr("r", r), svg_attr("fill", fill), stroke_attrs(edge), extra);
}

void SvgDocument::text(double x, double y, std::string_view content, const TextStyle& style,
                       std::string_view extra) {
  std::string a = svg_attr("x", x) + svg_attr("y", y) + svg_attr("font-size", style.size);
  if (style.anchor != "start") a += svg_attr("text-anchor", style.anchor);
  if (!style.baseline.empty()) a += svg_attr("dominant-baseline", style.baseline);
  if (style.bold) a += svg_attr("font-weight", "bold");
  if (style.rotate != 0.0) {
    a += svg_attr("transform", fmt::format("rotate({} {} {})", svg_number(style.rotate),
                                           svg_number(x), svg_number(y)));
  }
  body_ += fmt::format("<text{}{}>{}</text>\n", a, extra, svg_escape(content));
}

void SvgDocument::raw(std::string_view markup) { body_ += markup; }

void SvgDocument::begin_group(std::string_view extra) {
  body_ += fmt::format("<g{}>\n", extra);
  ++open_groups_;
}

void SvgDocument::end_group() {
  if (open_groups_ == 0) return;  // unbalanced call: keep the document well-formed
  body_ += "</g>\n";
  --open_groups_;
}

std::string SvgDocument::str() const {
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, Bitstream Vera Sans, Arial, "
      "sans-serif\">\n",
      svg_number(width_), svg_number(height_));
  out += body_;
  for (int i = 0; i < open_groups_; ++i) out += "</g>\n";
  out += "</svg>\n";
  return out;
}

// ---- files ----------------------------------------------------------------------

namespace {

// io::run_program: an argv array, no shell, so paths need no quoting; the
// child dies with dagrad.
void run_rsvg_convert(const std::string& exe, std::string_view format, const std::string& in,
                      const std::string& out) {
  const io::ProgramResult r = io::run_program({exe, "-f", std::string(format), "-o", out, in});
  if (!r.ok()) {
    const std::string how = WIFEXITED(r.status) ? fmt::format("exit code {}", WEXITSTATUS(r.status))
                                                : fmt::format("signal {}", WTERMSIG(r.status));
    throw InputError(fmt::format("rsvg-convert failed ({}) rendering '{}' to '{}': {}", how, in, out,
                                 r.err.empty() ? "no message" : r.err));
  }
}

}  // namespace

std::string check_figure_path(const std::string& path) {
  const std::string lower = lower_extension(path);
  const std::string ext = lower.empty() ? "" : "." + lower;
  if (ext != ".svg" && ext != ".png" && ext != ".pdf") {
    throw InputError(fmt::format("cannot write plot '{}': {} (use .svg, .png or .pdf)", path,
                                 ext.empty() ? "no extension" : fmt::format("unknown extension '{}'", ext)));
  }
  const std::string exe = ext == ".svg" ? "" : find_on_path("rsvg-convert");
  if (ext != ".svg" && exe.empty()) {
    throw InputError(fmt::format(
        "cannot write plot '{}': rendering {} needs rsvg-convert, which is not on PATH "
        "(apt-get install librsvg2-bin), or write a .svg instead",
        path, ext));
  }
  return exe;
}

void write_figure(const std::string& path, const std::string& svg) {
  const std::string exe = check_figure_path(path);
  io::AtomicFile out(path);
  if (exe.empty()) {
    out.write(svg);
  } else {
    // The SVG source is a scratch file under $TMPDIR, removed when `source`
    // dies; rsvg-convert writes into the output's temp file.
    io::TempFile source(".svg");
    source.write(svg);
    run_rsvg_convert(exe, lower_extension(path), source.path().string(), out.temp_path().string());
  }
  out.commit();
}


}  // namespace dagrad::viz
