// dagrad predict: a saved model's outputs for new data, one row per sample.
//   dagrad predict --model flower.dagrad --data new.csv -o P.csv
//   dagrad predict --model m.dagrad --data X.npy -o P.npy --stats
// The data holds features only (a CSV: one sample per line; .npy: samples
// along the first axis; .h5/.npz: the feature array). A CSV is streamed:
// --batch-size lines are read, predicted and written at a time, so a file of
// any size runs in bounded memory. P.csv has the output units as
// comma-separated columns and no header (numpy.loadtxt(P.csv, delimiter=','));
// P.npy is (samples x units) in the model's dtype (numpy.load). The output
// is written atomically: a failed run leaves no part of it.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/model_spec.hpp"
#include "cli/outputs.hpp"
#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"
#include "dagrad/io/csv.hpp"
#include "dagrad/io/npy.hpp"
#include "dagrad/serve/inference_plan.hpp"
#include "dagrad/train/data.hpp"

namespace dagrad::cli {

namespace {

struct PredictArgs {
  ModelSource source;
  std::string data, output;
  bool no_scale = false;
  double scale = 0;
  std::int64_t batch = 1024;
  bool stats = false;
};

bool has_extension(const std::string& path, std::string_view ext) {
  std::string e = std::filesystem::path(path).extension().string();
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e == ext;
}

// Where the predictions go: CSV lines streamed into the atomic file, or an
// .npy array gathered (samples x units: the outputs alone, not the data)
// and written at the end.
class Sink {
 public:
  Sink(io::AtomicFile& out, bool npy, DType dtype, std::int64_t units)
      : out_(out), npy_(npy), dtype_(dtype), units_(units) {}
  // `rows` samples' outputs, samples as columns (units x rows).
  template <class T>
  void put(const T* y, std::int64_t rows) {
    if (npy_) {
      for (std::int64_t s = 0; s < rows; ++s)
        for (std::int64_t r = 0; r < units_; ++r) all_.push_back(double(y[r * rows + s]));
      samples_ += rows;
      return;
    }
    text_.clear();  // keeps its capacity: one allocation for the run
    // Shortest round-trip digits of the value as a double: the file holds
    // the model's values exactly.
    for (std::int64_t s = 0; s < rows; ++s) {
      for (std::int64_t r = 0; r < units_; ++r)
        fmt::format_to(std::back_inserter(text_), "{}{}", r ? "," : "", double(y[r * rows + s]));
      text_ += '\n';
    }
    out_.write(text_);
    samples_ += rows;
  }
  void finish() {
    if (npy_) {
      io::Array a;
      a.shape = {samples_, units_};
      a.dtype = dtype_;
      a.values = std::move(all_);
      out_.write(io::write_npy_bytes(a));
    }
    out_.commit();
  }
  std::int64_t samples() const { return samples_; }

 private:
  io::AtomicFile& out_;
  bool npy_;
  DType dtype_;
  std::int64_t units_, samples_ = 0;
  std::string text_;
  std::vector<double> all_;
};

// The plan on one batch of samples given as rows (raw features, as
// doubles). It runs in the columns layout, the training plan's, so the
// file holds the bits train::predict and evaluate compute.
template <class T>
void predict_rows(const serve::InferencePlan& plan, serve::Context& ctx, const std::vector<double>& rows,
                  std::int64_t m, double scale, std::vector<T>& x, std::vector<T>& y, Sink& sink) {
  const std::int64_t n = plan.inputs();
  x.resize(rows.size());
  for (std::int64_t s = 0; s < m; ++s)
    for (std::int64_t k = 0; k < n; ++k) {
      const double v = rows[std::size_t(s * n + k)];
      x[std::size_t(k * m + s)] = static_cast<T>(scale > 0 ? v / scale : v);
    }
  y.resize(static_cast<std::size_t>(m * plan.outputs()));
  plan.predict(ctx, std::span<const T>(x), std::span<T>(y), serve::Layout::columns);
  sink.put(y.data(), m);
}

template <class T>
void stream_csv(const PredictArgs& a, const serve::InferencePlan& plan, Sink& sink) {
  io::CsvStream in(a.data);
  if (!in.header().empty())
    print_note(fmt::format("{}: line 1 is a header ({}); skipped", a.data, fmt::join(in.header(), ", ")));
  if (in.fields() != plan.inputs())
    throw InputError(fmt::format("{}: {} fields per line but the model takes {} features (n[0] = {})", a.data,
                                 in.fields(), plan.inputs(), plan.inputs()));
  serve::Context ctx(plan);
  std::vector<double> rows;
  std::vector<T> x, y;
  for (std::int64_t m; (m = in.read(a.batch, rows)) > 0;)
    predict_rows<T>(plan, ctx, rows, m, a.scale, x, y, sink);
}

// .npy, .h5, .npz: read whole (train::load_data), predicted in batches.
template <class T>
void predict_loaded(const PredictArgs& a, const serve::InferencePlan& plan, Sink& sink) {
  train::DataOptions dopt;
  dopt.no_scale = a.no_scale;
  dopt.scale = a.scale;
  dopt.features_only = true;
  const io::Dataset d = train::load_data(a.data, dopt);
  for (const std::string& note : d.notes) print_note(note);
  if (d.X.rows() != plan.inputs())
    throw InputError(fmt::format("{}: the data has {} features but the model takes {} (n[0] = {})", a.data,
                                 d.X.rows(), plan.inputs(), plan.inputs()));
  serve::Context ctx(plan);
  std::vector<double> rows;
  std::vector<T> x, y;
  const std::int64_t n = d.X.rows(), total = d.X.cols();
  for (std::int64_t b = 0; b < total; b += a.batch) {
    const std::int64_t m = std::min(a.batch, total - b);
    rows.resize(static_cast<std::size_t>(m * n));
    for (std::int64_t s = 0; s < m; ++s)
      for (std::int64_t k = 0; k < n; ++k) rows[std::size_t(s * n + k)] = d.X(k, b + s);
    predict_rows<T>(plan, ctx, rows, m, 0.0, x, y, sink);  // load_data applied --scale
  }
}

// Seconds to read the file once with plain read() calls: the rate a
// predict run is compared with (--stats).
double plain_read_seconds(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(fd);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run_predict(const PredictArgs& a) {
  apply_threads(a.source.spec);
  if (a.batch < 1) throw InputError(fmt::format("--batch-size {} must be at least 1", a.batch));
  if (a.scale < 0.0 || !std::isfinite(a.scale))
    throw InputError(fmt::format("--scale {} must be a positive divisor", a.scale));
  OutputSet().input("--model", a.source.model).input("--data", a.data).output("-o", a.output).check();
  io::AtomicFile out(a.output);  // a bad output path fails before any work
  const models::Model model = make_model(a.source);
  PredictArgs args = a;  // the features scaled as the model was trained, unless a flag says otherwise
  args.scale = feature_scale(model, a.no_scale, a.scale);
  args.no_scale = false;
  const serve::InferencePlan plan(model);
  Sink sink(out, has_extension(a.output, ".npy"), plan.dtype(), plan.outputs());
  const auto t0 = std::chrono::steady_clock::now();
  const bool csv = has_extension(a.data, ".csv") || has_extension(a.data, ".txt");
  const bool f32 = plan.dtype() == DType::f32;
  if (csv) f32 ? stream_csv<float>(args, plan, sink) : stream_csv<double>(args, plan, sink);
  else f32 ? predict_loaded<float>(args, plan, sink) : predict_loaded<double>(args, plan, sink);
  sink.finish();
  if (a.stats) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double bytes = double(std::filesystem::file_size(a.data)), plain = plain_read_seconds(a.data);
    std::fprintf(stderr,
                 "predict: %lld samples in %.3f s: %.0f samples/s, %.1f MB/s of %s; reading the file alone: "
                 "%.1f MB/s (predict runs at %.0f%% of it)\n",
                 static_cast<long long>(sink.samples()), secs, double(sink.samples()) / secs, bytes / secs / 1e6,
                 a.data.c_str(), plain > 0 ? bytes / plain / 1e6 : 0.0, plain > 0 ? 100.0 * plain / secs : 0.0);
  }
  return 0;
}

}  // namespace

void add_predict(CLI::App& app, Commands& out) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* c = app.add_subcommand("predict", "a saved model's outputs for new data, as CSV or .npy");
  add_model_file(c, a->source, "--model", "a model saved by dagrad train --save FILE.dagrad", true);
  c->add_option("--data", a->data,
                "features: .csv (one sample per line; streamed), .npy (samples first), .h5, .npz")->required();
  c->add_option("-o,--out", a->output, "predictions, one row per sample: .npy (numpy.load), else CSV")->required();
  c->add_flag("--no-scale", a->no_scale, "keep uint8 images as 0..255 (default: as the model was trained)");
  c->add_option("--scale", a->scale, "divide every feature by this (255 for the cat CSVs; default: as the model was trained)");
  c->add_option("--batch-size", a->batch, "samples read, predicted and written at a time");
  c->add_flag("--stats", a->stats, "print samples/s and the file's plain read rate on stderr");
  out.push_back({c, [a] { return run_predict(*a); }});
}

}  // namespace dagrad::cli
