// Plots are checked by parsing the SVG with expat (so "well-formed" is tested
// by a real XML parser) and reading geometry back from the elements.
#include <catch2/catch.hpp>
#include <expat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/viz/plot.hpp"
#include "dagrad/viz/svg.hpp"
#include "tests/support/dependency.hpp"

namespace fs = std::filesystem;
using namespace dagrad;
using namespace dagrad::viz;

namespace {

struct Element {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text;  // character data directly or in nested tspans
  std::vector<std::string> group_classes;  // class of every enclosing <g>
  double num(const std::string& key) const { return std::stod(attrs.at(key)); }
  bool in_group(const std::string& cls) const {
    for (const auto& c : group_classes) if (c == cls) return true;
    return false;
  }
};

struct Parsed {
  std::vector<Element> elements;
  std::vector<std::size_t> open;  // indexes of the open elements, innermost last
};

void on_start(void* data, const XML_Char* name, const XML_Char** atts) {
  auto* p = static_cast<Parsed*>(data);
  Element e;
  e.name = name;
  for (int i = 0; atts[i]; i += 2) e.attrs[atts[i]] = atts[i + 1];
  for (std::size_t k : p->open) {
    const Element& up = p->elements[k];
    if (up.name == "g" && up.attrs.count("class")) e.group_classes.push_back(up.attrs.at("class"));
  }
  p->elements.push_back(std::move(e));
  p->open.push_back(p->elements.size() - 1);
}

void on_end(void* data, const XML_Char*) { static_cast<Parsed*>(data)->open.pop_back(); }

void on_text(void* data, const XML_Char* s, int len) {
  auto* p = static_cast<Parsed*>(data);
  for (std::size_t k : p->open) {
    if (p->elements[k].name == "text") p->elements[k].text.append(s, static_cast<std::size_t>(len));
  }
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses an SVG file; fails the test with expat's message and line when it is not well-formed.
std::vector<Element> parse_svg(const fs::path& path) {
  std::string xml = slurp(path);
  Parsed parsed;
  XML_Parser parser = XML_ParserCreate("UTF-8");
  XML_SetUserData(parser, &parsed);
  XML_SetElementHandler(parser, on_start, on_end);
  XML_SetCharacterDataHandler(parser, on_text);
  bool ok = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), 1) == XML_STATUS_OK;
  std::string error = ok ? "" : XML_ErrorString(XML_GetErrorCode(parser));
  auto line = XML_GetCurrentLineNumber(parser);
  XML_ParserFree(parser);
  INFO("expat: " << error << " at line " << line << " of " << path);
  REQUIRE(ok);
  REQUIRE(!parsed.elements.empty());
  REQUIRE(parsed.elements.front().name == "svg");
  return parsed.elements;
}

std::vector<const Element*> select(const std::vector<Element>& els, const std::string& name,
                                   const std::string& cls = "") {
  std::vector<const Element*> out;
  for (const auto& e : els) {
    if (e.name != name) continue;
    if (!cls.empty() && (!e.attrs.count("class") || e.attrs.at("class") != cls)) continue;
    out.push_back(&e);
  }
  return out;
}

struct Point {
  double x, y;
};

std::vector<Point> polyline_points(const Element& e) {
  std::vector<Point> out;
  std::istringstream in(e.attrs.at("points"));
  std::string pair;
  while (in >> pair) {
    auto comma = pair.find(',');
    out.push_back({std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1))});
  }
  return out;
}

// A tick's data value and pixel position (its tick line's coordinate).
struct TickAt {
  double value, pos;
};

std::vector<TickAt> ticks(const std::vector<Element>& els, const std::string& cls, bool y_axis) {
  std::vector<TickAt> out;
  for (std::size_t i = 0; i < els.size(); ++i) {
    if (els[i].name != "g" || !els[i].attrs.count("class") || els[i].attrs.at("class") != cls) continue;
    const Element& line = els[i + 1];  // the tick's first child is its mark
    REQUIRE(line.name == "line");
    out.push_back({std::stod(els[i].attrs.at("data-value")), line.num(y_axis ? "y1" : "x1")});
  }
  return out;
}

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / ("dagrad_plot_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

CostPlotOptions log_options() {
  CostPlotOptions o;
  o.log_scale = true;
  return o;
}

bool is_125(double step) {
  double mant = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  return std::abs(mant - 1) < 1e-9 || std::abs(mant - 2) < 1e-9 || std::abs(mant - 5) < 1e-9;
}

}  // namespace

TEST_CASE("svg helpers escape text and format numbers compactly", "[viz]") {
  CHECK(svg_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  CHECK(svg_number(12.5) == "12.5");
  CHECK(svg_number(3.0) == "3");
  CHECK(svg_number(-0.001) == "0");
  CHECK(svg_number(-7.256) == "-7.26");
  CHECK(svg_attr("fill", "#fff") == " fill=\"#fff\"");
}

TEST_CASE("nice ticks use 1-2-5 steps and cover the data range", "[viz]") {
  // By hand: 0..0.693 in at most 8 ticks needs step 0.1 (0, 0.1, ..., 0.7).
  AxisTicks a = nice_ticks(0, 0.693);
  CHECK(a.step == Approx(0.1));
  CHECK(a.lo == Approx(0));
  CHECK(a.hi == Approx(0.7));
  CHECK(a.values.size() == 8);
  // 0.05..0.74: step 0.1 would need 9 ticks (0..0.8), so 0.2.
  CHECK(nice_ticks(0.05, 0.74).step == Approx(0.2));
  // Iterations 0..2500 with integer steps: 0, 500, ..., 2500.
  AxisTicks it = nice_ticks(0, 2500, 8, true, 1.0);
  CHECK(it.step == 500);
  CHECK(it.values == std::vector<double>{0, 500, 1000, 1500, 2000, 2500});
  // Without expansion the limits stay and the ticks lie inside: -4, -2, 0, 2, 4.
  AxisTicks in = nice_ticks(-4.7, 4.7, 8, false);
  CHECK(in.lo == -4.7);
  CHECK(in.values == std::vector<double>{-4, -2, 0, 2, 4});

  std::srand(7);
  for (int trial = 0; trial < 500; ++trial) {
    double lo = (std::rand() / double(RAND_MAX) - 0.5) * std::pow(10.0, std::rand() % 9 - 4);
    double hi = lo + std::rand() / double(RAND_MAX) * std::pow(10.0, std::rand() % 9 - 4);
    AxisTicks t = nice_ticks(lo, hi);
    INFO("range [" << lo << ", " << hi << "] step " << t.step);
    REQUIRE(is_125(t.step));
    REQUIRE(t.values.size() <= 8);
    REQUIRE(t.values.size() >= 2);
    REQUIRE(t.lo <= lo);
    REQUIRE(t.hi >= hi);
    for (std::size_t k = 1; k < t.values.size(); ++k) {
      REQUIRE(t.values[k] - t.values[k - 1] == Approx(t.step));
    }
  }
}

TEST_CASE("cost plot has one polyline point per cost row, placed by the ticks", "[viz]") {
  TempDir dir;
  std::vector<std::int64_t> iters;
  std::vector<double> costs;
  for (int i = 0; i < 25; ++i) {
    iters.push_back(i * 100);
    costs.push_back(0.69 * std::exp(-i / 5.0) + 0.04);
  }
  fs::path path = dir.path / "cost.svg";
  CostPlotOptions opt;
  opt.title = "Learning rate = 0.0075 <&>";
  write_cost_plot(path.string(), iters, costs, opt);
  auto els = parse_svg(path);
  REQUIRE(dir.entries() == 1);  // no temp file left behind

  auto curves = select(els, "polyline", "cost-curve");
  REQUIRE(curves.size() == 1);
  auto pts = polyline_points(*curves[0]);
  REQUIRE(pts.size() == costs.size());

  auto titles = select(els, "text", "title");
  REQUIRE(titles.size() == 1);
  CHECK(titles[0]->text == "Learning rate = 0.0075 <&>");
  CHECK(select(els, "text", "xlabel")[0]->text == "iterations");
  CHECK(select(els, "text", "ylabel")[0]->text == "cost");

  // Ticks cover the data on both axes.
  auto xt = ticks(els, "xtick", false), yt = ticks(els, "ytick", true);
  REQUIRE(xt.size() >= 2);
  REQUIRE(yt.size() >= 2);
  CHECK(xt.front().value <= 0);
  CHECK(xt.back().value >= 2400);
  CHECK(yt.front().value <= *std::min_element(costs.begin(), costs.end()));
  CHECK(yt.back().value >= costs.front());
  CHECK(is_125(yt[1].value - yt[0].value));

  // Each point sits where the tick positions put its (iteration, cost) value.
  auto map = [](const std::vector<TickAt>& t, double v) {
    return t.front().pos + (v - t.front().value) / (t.back().value - t.front().value) *
                               (t.back().pos - t.front().pos);
  };
  for (std::size_t i = 0; i < pts.size(); ++i) {
    CHECK(pts[i].x == Approx(map(xt, double(iters[i]))).margin(0.02));
    CHECK(pts[i].y == Approx(map(yt, costs[i])).margin(0.02));
  }
}

TEST_CASE("cost plot on a log scale places points by log10 of the cost", "[viz]") {
  TempDir dir;
  std::vector<std::int64_t> iters{0, 10, 20, 30};
  std::vector<double> costs{0.5, 0.05, 0.01, 0.002};
  fs::path path = dir.path / "log.svg";
  write_cost_plot(path.string(), iters, costs, log_options());
  auto els = parse_svg(path);
  auto yt = ticks(els, "ytick", true);
  // Decades from 10^-3 (below 0.002) to 10^0 (above 0.5).
  REQUIRE(yt.size() == 4);
  CHECK(yt.front().value == Approx(1e-3));
  CHECK(yt.back().value == Approx(1.0));
  auto pts = polyline_points(*select(els, "polyline", "cost-curve")[0]);
  REQUIRE(pts.size() == 4);
  double per_decade = (yt.back().pos - yt.front().pos) / 3.0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    CHECK(pts[i].y == Approx(yt.front().pos + (std::log10(costs[i]) + 3) * per_decade).margin(0.02));
  }
}

TEST_CASE("cost plot handles a single row and a constant cost", "[viz]") {
  TempDir dir;
  std::vector<std::int64_t> one_iter{100};
  std::vector<double> one_cost{0.42};
  write_cost_plot((dir.path / "one.svg").string(), one_iter, one_cost);
  auto els = parse_svg(dir.path / "one.svg");
  CHECK(polyline_points(*select(els, "polyline", "cost-curve")[0]).size() == 1);
  auto yt = ticks(els, "ytick", true);
  CHECK(yt.front().value <= 0.42);
  CHECK(yt.back().value >= 0.42);
  CHECK(yt.front().value < yt.back().value);

  std::vector<std::int64_t> iters{0, 1, 2, 3, 4};
  std::vector<double> flat(5, 0.3);
  write_cost_plot((dir.path / "flat.svg").string(), iters, flat, log_options());
  auto pts = polyline_points(*select(parse_svg(dir.path / "flat.svg"), "polyline", "cost-curve")[0]);
  REQUIRE(pts.size() == 5);
  for (const auto& p : pts) CHECK(p.y == Approx(pts[0].y));
}

TEST_CASE("cost plot refuses NaN, non-positive log costs and ragged input, writing nothing", "[viz]") {
  TempDir dir;
  std::string path = (dir.path / "bad.svg").string();
  std::vector<std::int64_t> iters{0, 1, 2};
  std::vector<double> with_nan{0.5, 0.4, std::nan("")};
  CHECK_THROWS_WITH(write_cost_plot(path, iters, with_nan), Catch::Contains("cost row 2"));
  std::vector<double> with_neg{0.5, -0.1, 0.3};
  CHECK_NOTHROW(write_cost_plot((dir.path / "linear_ok.svg").string(), iters, with_neg));
  CHECK_THROWS_AS(write_cost_plot(path, iters, with_neg, log_options()), InputError);
  CHECK_THROWS_WITH(write_cost_plot(path, iters, with_neg, log_options()),
                    Catch::Contains("row 1") && Catch::Contains("> 0"));
  std::vector<double> short_costs{0.5};
  CHECK_THROWS_AS(write_cost_plot(path, iters, short_costs), InputError);
  CHECK_THROWS_AS(write_cost_plot((dir.path / "x.gif").string(), iters, with_neg), InputError);
  CHECK_FALSE(fs::exists(path));
  CHECK(dir.entries() == 1);  // only linear_ok.svg
}

namespace {

// Fill of the last region rect (document order = paint order) under pixel (x, y).
std::string region_fill_at(const std::vector<Element>& els, double x, double y) {
  std::string fill;
  for (const auto& e : els) {
    if (e.name != "rect" || !e.in_group("regions")) continue;
    if (x >= e.num("x") && x < e.num("x") + e.num("width") && y >= e.num("y") &&
        y < e.num("y") + e.num("height")) {
      fill = e.attrs.at("fill");
    }
  }
  return fill;
}

}  // namespace

TEST_CASE("boundary plot colours the regions of a known predictor", "[viz]") {
  TempDir dir;
  // Points span x1 in [-2, 2], x2 in [-1, 3]; with margin 0.1 the axes show
  // x1 in [-2.4, 2.4] and x2 in [-1.4, 3.4].
  std::vector<double> x1{-2, 2, 0, 1, -1}, x2{-1, 3, 0, 2, 1}, y{0, 1, 0, 1, 0};
  int calls = 0;
  std::size_t batch = 0;
  auto predict = [&](std::span<const double> a, std::span<const double> b, std::span<double> p) {
    ++calls;
    batch = a.size();
    for (std::size_t k = 0; k < a.size(); ++k) p[k] = a[k] + b[k] > 1 ? 0.9 : 0.1;
  };
  BoundaryPlotOptions opt;
  opt.title = "x1 + x2 > 1";
  fs::path path = dir.path / "boundary.svg";
  write_boundary_plot(path.string(), x1, x2, y, predict, opt);
  CHECK(calls == 1);
  CHECK(batch == 200u * 200u);

  auto els = parse_svg(path);
  const Element& frame = *select(els, "rect", "axes-frame").at(0);
  double L = frame.num("x"), T = frame.num("y"), W = frame.num("width"), H = frame.num("height");
  auto px = [&](double v) { return L + (v + 2.4) / 4.8 * W; };
  auto py = [&](double v) { return T + H - (v + 1.4) / 4.8 * H; };
  double cell = 4.8 / 200;
  int checked = 0;
  for (double a = -2.3; a <= 2.3; a += 0.23) {
    for (double b = -1.3; b <= 3.3; b += 0.23) {
      if (std::abs(a + b - 1) < 3 * cell) continue;  // too close to the boundary to call
      INFO("data point (" << a << ", " << b << ")");
      CHECK(region_fill_at(els, px(a), py(b)) == (a + b > 1 ? opt.region_color1 : opt.region_color0));
      ++checked;
    }
  }
  CHECK(checked > 300);

  // Runs are merged: a diagonal boundary gives at most two rects per grid row.
  auto rects = select(els, "rect");
  std::size_t region_rects = 0;
  for (auto* r : rects) region_rects += r->in_group("regions");
  CHECK(region_rects <= 400);
  CHECK(region_rects >= 200);

  std::vector<const Element*> circles, key_circles, key_rects;
  std::string key_text;
  for (const Element& e : els) {
    if (e.name == "circle" && e.in_group("points")) circles.push_back(&e);
    if (e.name == "circle" && e.in_group("legend")) key_circles.push_back(&e);
    if (e.name == "rect" && e.in_group("legend")) key_rects.push_back(&e);
    if (e.name == "text" && e.in_group("legend")) key_text += e.text + "|";
  }
  REQUIRE(circles.size() == x1.size());
  for (std::size_t i = 0; i < x1.size(); ++i) {
    CHECK(circles[i]->num("cx") == Approx(px(x1[i])).margin(0.01));
    CHECK(circles[i]->num("cy") == Approx(py(x2[i])).margin(0.01));
    CHECK(circles[i]->attrs.at("fill") == (y[i] == 1 ? opt.point_color1 : opt.point_color0));
  }
  // The legend names each colour: the points' labels, the regions' predictions.
  REQUIRE(key_circles.size() == 2);
  REQUIRE(key_rects.size() == 2);
  CHECK(key_circles[0]->attrs.at("fill") == opt.point_color0);
  CHECK(key_circles[1]->attrs.at("fill") == opt.point_color1);
  CHECK(key_rects[0]->attrs.at("fill") == opt.region_color0);
  CHECK(key_rects[1]->attrs.at("fill") == opt.region_color1);
  CHECK(key_text == "label 0|label 1|predicted 0 (P <= 0.5)|predicted 1 (P > 0.5)|");
  for (const Element* k : key_circles) CHECK(k->num("cy") < T);  // outside the axes
}

TEST_CASE("boundary plot of prob = [x1 > 0] splits the axes into left and right halves", "[viz]") {
  TempDir dir;
  std::vector<double> x1{-1, 1, -0.5, 0.5}, x2{0, 1, 2, 3}, y{0, 1, 0, 1};
  auto predict = [](std::span<const double> a, std::span<const double>, std::span<double> p) {
    for (std::size_t k = 0; k < a.size(); ++k) p[k] = a[k] > 0 ? 1.0 : 0.0;
  };
  BoundaryPlotOptions opt;
  opt.grid_size = 50;
  write_boundary_plot((dir.path / "halves.svg").string(), x1, x2, y, predict, opt);
  auto els = parse_svg(dir.path / "halves.svg");
  const Element& frame = *select(els, "rect", "axes-frame").at(0);
  double L = frame.num("x"), T = frame.num("y"), W = frame.num("width"), H = frame.num("height");
  for (double fy : {0.05, 0.5, 0.95}) {
    CHECK(region_fill_at(els, L + 0.25 * W, T + fy * H) == opt.region_color0);
    CHECK(region_fill_at(els, L + 0.75 * W, T + fy * H) == opt.region_color1);
  }
  // Every row is exactly two runs: 50 rows x 2 rects.
  std::size_t region_rects = 0;
  for (auto* r : select(els, "rect")) region_rects += r->in_group("regions");
  CHECK(region_rects == 100);
}

TEST_CASE("boundary plot refuses bad labels, ragged input and NaN predictions", "[viz]") {
  TempDir dir;
  std::string path = (dir.path / "bad.svg").string();
  auto ok = [](std::span<const double>, std::span<const double>, std::span<double> p) {
    for (auto& v : p) v = 0.2;
  };
  auto nan = [](std::span<const double>, std::span<const double>, std::span<double> p) {
    for (auto& v : p) v = std::nan("");
  };
  std::vector<double> x1{0, 1}, x2{0, 1}, good{0, 1}, bad{0, 2}, short_y{0};
  CHECK_THROWS_WITH(write_boundary_plot(path, x1, x2, bad, ok), Catch::Contains("label 1 is 2"));
  CHECK_THROWS_AS(write_boundary_plot(path, x1, x2, short_y, ok), InputError);
  CHECK_THROWS_WITH(write_boundary_plot(path, x1, x2, good, nan), Catch::Contains("NaN"));
  CHECK(dir.entries() == 0);
}

TEST_CASE("plots render to PNG and PDF through rsvg-convert", "[viz]") {
  if (std::system("command -v rsvg-convert > /dev/null 2>&1") != 0) {
    dagrad::support::missing_dependency("rsvg-convert (librsvg2-bin)", "PNG and PDF rendering");
    return;
  }
  TempDir dir;
  std::vector<std::int64_t> iters{0, 100, 200};
  std::vector<double> costs{0.69, 0.4, 0.3};
  fs::path png = dir.path / "cost.png", pdf = dir.path / "cost.pdf";
  CostPlotOptions small;
  small.width = 320;
  small.height = 240;
  write_cost_plot(png.string(), iters, costs, small);
  write_cost_plot(pdf.string(), iters, costs);
  std::string bytes = slurp(png);
  REQUIRE(bytes.size() > 24);
  CHECK(bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  // IHDR: big-endian width and height at bytes 16..23.
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t(std::uint8_t(bytes[at])) << 24) | (std::uint32_t(std::uint8_t(bytes[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(bytes[at + 2])) << 8) | std::uint32_t(std::uint8_t(bytes[at + 3]));
  };
  CHECK(be32(16) == 320);
  CHECK(be32(20) == 240);
  CHECK(slurp(pdf).substr(0, 5) == "%PDF-");
  CHECK(dir.entries() == 2);  // no temp files left
}

TEST_CASE("PNG without rsvg-convert on PATH is an InputError that leaves no file", "[viz]") {
  TempDir dir;
  const char* old = std::getenv("PATH");
  std::string saved = old ? old : "";
  ::setenv("PATH", dir.path.c_str(), 1);  // an empty directory: nothing to run
  std::vector<std::int64_t> iters{0, 1};
  std::vector<double> costs{0.5, 0.4};
  std::string message;
  try {
    write_cost_plot((dir.path / "cost.png").string(), iters, costs);
  } catch (const InputError& e) {
    message = e.what();
  }
  ::setenv("PATH", saved.c_str(), 1);
  CHECK_THAT(message, Catch::Contains("apt-get install librsvg2-bin"));
  CHECK(dir.entries() == 0);
}

// ---- values near the largest double (issue 14: a cost of 1e308 crashed) ----------

namespace {

// Every number in the file's attributes and text is finite, no tick label is
// a 300-digit number, and the points lie inside the drawing.
void check_sane_svg(const fs::path& path, int width, int height) {
  const std::string text = slurp(path);
  for (const char* word : {"inf", "nan"}) {
    const std::size_t at = text.find(word);
    INFO(word << " in: " << (at == std::string::npos ? "" : text.substr(at < 60 ? 0 : at - 60, 120)));
    CHECK(at == std::string::npos);
  }
  const auto els = parse_svg(path);
  for (const Element& e : els) {
    if (e.name == "text") CHECK(e.text.size() < 24);
    for (const char* key : {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy"})
      if (e.attrs.count(key)) {
        INFO(path.filename().string() << ": <" << e.name << " class " << (e.attrs.count("class") ? e.attrs.at("class") : "")
                                      << "> " << key << " in group " << (e.group_classes.empty() ? "" : e.group_classes.back()));
        const double v = e.num(key);
        CHECK(std::isfinite(v));
        CHECK(v >= -1);
        CHECK(v <= std::max(width, height) + 1);
      }
  }
  for (const Element* c : select(els, "polyline", "cost-curve"))
    for (const Point& p : polyline_points(*c)) {
      CHECK(p.x >= 0);
      CHECK(p.x <= width);
      CHECK(p.y >= 0);
      CHECK(p.y <= height);
    }
}

}  // namespace

TEST_CASE("nice ticks of ranges near the largest double stay finite", "[viz]") {
  const double big = std::numeric_limits<double>::max();
  for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{
           {0.5, 1e308}, {-1e308, 1e308}, {-big, big}, {big, big}, {1e307, big}, {-big, -1e300}}) {
    INFO("[" << lo << ", " << hi << "]");
    for (const bool expand : {true, false}) {
      const AxisTicks t = nice_ticks(lo, hi, 8, expand);
      CHECK(std::isfinite(t.lo));
      CHECK(std::isfinite(t.hi));
      CHECK(std::isfinite(t.step));
      CHECK(t.step > 0);
      CHECK(t.lo <= t.hi);
      REQUIRE(!t.values.empty());
      CHECK(t.values.size() <= 9);
      for (double v : t.values) CHECK(std::isfinite(v));
    }
  }
  CHECK_THROWS_AS(nice_ticks(0, std::numeric_limits<double>::infinity()), InputError);
}

TEST_CASE("cost and boundary plots of values near the largest double are drawn, not crashed", "[viz]") {
  TempDir dir;
  const double big = std::numeric_limits<double>::max();
  const std::vector<std::vector<double>> cost_sets{
      {1e308, 0.5, 0.25}, {-1e308, 1e308}, {big, big}, {big, -big, 0}, {1e-308, 2e-308, 5e-324}};
  for (const auto& costs : cost_sets) {
    INFO("costs " << costs[0] << ", " << costs[1]);
    std::vector<std::int64_t> iters(costs.size());
    for (std::size_t i = 0; i < iters.size(); ++i) iters[i] = static_cast<std::int64_t>(i);
    const fs::path path = dir.path / "cost.svg";
    write_cost_plot(path.string(), iters, costs);
    check_sane_svg(path, 640, 480);
  }
  // Log scale up to the largest double.
  write_cost_plot((dir.path / "log.svg").string(), std::vector<std::int64_t>{0, 1}, std::vector<double>{1e-300, big},
                  log_options());
  check_sane_svg(dir.path / "log.svg", 640, 480);
  // Points near the largest double: the padded range and the grid stay finite.
  const std::vector<double> x1{-big, big, 0, 1e308}, x2{1e308, -1e308, big, 0}, y{0, 1, 0, 1};
  std::vector<double> seen;
  write_boundary_plot((dir.path / "b.svg").string(), x1, x2, y,
                      [&](std::span<const double> g1, std::span<const double> g2, std::span<double> p) {
                        for (std::size_t k = 0; k < p.size(); ++k) {
                          CHECK(std::isfinite(g1[k]));
                          CHECK(std::isfinite(g2[k]));
                          p[k] = g1[k] > 0 ? 1.0 : 0.0;
                        }
                      });
  check_sane_svg(dir.path / "b.svg", 640, 480);
}
