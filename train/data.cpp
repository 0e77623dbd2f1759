#include "dagrad/train/data.hpp"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/atomic_file.hpp"

namespace dagrad::train {

io::Dataset load_data(const std::filesystem::path& path, const DataOptions& options) {
  if (options.scale < 0.0 || !std::isfinite(options.scale))
    throw InputError(fmt::format("--scale {} must be a positive divisor", options.scale));
  io::LoadOptions lo;
  lo.labels = options.labels;
  lo.scale = !options.no_scale && options.scale == 0.0;
  lo.features_only = options.features_only;
  lo.class_labels = options.class_labels;
  lo.shard = options.shard;
  io::Dataset d = io::load_dataset(path, lo);
  if (options.scale > 0.0)
    for (double& v : d.X.values) v /= options.scale;
  return d;
}

namespace {
std::string label_text(double y) {
  return y == std::floor(y) ? fmt::format("{}", static_cast<long long>(y)) : fmt::format("{}", y);
}
}  // namespace

void write_csv(const io::Dataset& d, const std::filesystem::path& path,
               const std::optional<std::filesystem::path>& labels_path) {
  io::AtomicFile data(path);
  std::optional<io::AtomicFile> labels;
  if (labels_path) labels.emplace(*labels_path);
  std::string line;
  for (std::int64_t i = 0; i < d.samples(); ++i) {
    line.clear();
    for (std::int64_t r = 0; r < d.X.rows(); ++r)
      line += fmt::format("{}{}", r ? "," : "", d.X(r, i));
    if (labels) labels->write(label_text(d.Y(0, i)) + "\n");
    else fmt::format_to(std::back_inserter(line), ",{}", label_text(d.Y(0, i)));
    line += '\n';
    data.write(line);
  }
  data.commit();
  if (labels) labels->commit();
}

}  // namespace dagrad::train
