// A tiny SVG writer for the plots: every element is appended as a string,
// numbers go through fmt with at most two decimals (a hundredth of a pixel),
// and text is XML-escaped. write_figure() saves the document as .svg, or as
// .png/.pdf through rsvg-convert, always atomically (temp file + rename).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace dagrad::viz {

// Escapes & < > " ' so `text` is safe as element content or attribute value.
std::string svg_escape(std::string_view text);

// Formats a coordinate: fixed two decimals with trailing zeros dropped
// ("12.5", "3", "-0.25"); NaN and Inf never reach here (callers check).
std::string svg_number(double v);

// ` name="value"` with the value escaped; the building block of attribute lists.
std::string svg_attr(std::string_view name, std::string_view value);
std::string svg_attr(std::string_view name, double value);

// How a line is stroked; dash is an SVG dasharray such as "4 2" (empty = solid).
struct Stroke {
  std::string_view color = "black";
  double width = 1.0;
  std::string_view dash = {};
};

struct TextStyle {
  double size = 13.0;               // px
  std::string_view anchor = "start";  // start | middle | end
  std::string_view baseline = {};   // e.g. "central"; empty = alphabetic
  double rotate = 0.0;              // degrees about the anchor point
  bool bold = false;
};

// An SVG document of fixed pixel size with a white background. Each method
// appends one element; `extra` is a raw attribute list built with svg_attr.
class SvgDocument {
 public:
  SvgDocument(double width, double height);

  void rect(double x, double y, double w, double h, std::string_view fill,
            std::string_view extra = {});
  void line(double x1, double y1, double x2, double y2, const Stroke& stroke,
            std::string_view extra = {});
  // One <polyline> through (xs[i], ys[i]); both spans have the same length.
  void polyline(std::span<const double> xs, std::span<const double> ys, const Stroke& stroke,
                std::string_view extra = {});
  void circle(double cx, double cy, double r, std::string_view fill, const Stroke& edge,
              std::string_view extra = {});
  void text(double x, double y, std::string_view content, const TextStyle& style,
            std::string_view extra = {});
  // `markup` is inserted verbatim: it must already be escaped, well-formed SVG.
  void raw(std::string_view markup);
  void begin_group(std::string_view extra = {});
  void end_group();

  double width() const { return width_; }
  double height() const { return height_; }
  // The complete document, XML declaration included.
  std::string str() const;

 private:
  double width_;
  double height_;
  std::string body_;
  int open_groups_ = 0;
};

// Saves an SVG document by the extension of `path`: ".svg" as is, ".png" or
// ".pdf" rendered by rsvg-convert (InputError if it is not on PATH or fails).
// Goes through io::AtomicFile, so `path` is either complete or untouched.
void write_figure(const std::string& path, const std::string& svg);
// The check write_figure makes first, for callers that validate their outputs
// before any work: InputError unless the extension is .svg, .png or .pdf and,
// for .png/.pdf, rsvg-convert is on PATH. Returns rsvg-convert's path ("" for .svg).
std::string check_figure_path(const std::string& path);

}  // namespace dagrad::viz
