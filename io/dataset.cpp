#include "dagrad/io/dataset.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/csv.hpp"
#include "dagrad/io/h5.hpp"
#include "dagrad/io/npz.hpp"

namespace dagrad::io {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("({})", fmt::join(shape, ", "));
}

// The feature array and the label array (nullptr if absent) by the names the
// course and numpy users give them: x/y, X/Y, or one pair *_x / *_y.
std::pair<const Array*, const Array*> pick_xy(const NamedArrays& arrays, std::string_view origin) {
  if (const Array* x = find_array(arrays, "x")) return {x, find_array(arrays, "y")};
  if (const Array* x = find_array(arrays, "X")) return {x, find_array(arrays, "Y")};
  std::vector<std::string> xs;
  for (const auto& [name, a] : arrays)
    if (name.ends_with("_x")) xs.push_back(name);
  if (xs.size() != 1)
    throw InputError(fmt::format("{}: expected one feature array named x, X or *_x, found {} ({})", origin,
                                 xs.size(), fmt::join(xs, ", ")));
  const std::string y_name = xs[0].substr(0, xs[0].size() - 2) + "_y";
  return {find_array(arrays, xs[0]), find_array(arrays, y_name)};
}

// Labels of any shape with one non-unit axis, (m,), (1, m), (m, 1), as 1 x m.
Matrix labels_from(const Array& y, std::string_view origin) {
  const auto wide = std::count_if(y.shape.begin(), y.shape.end(), [](std::int64_t d) { return d != 1; });
  if (wide > 1)
    throw InputError(fmt::format("{}: labels have shape {}; expected (m,), (1, m) or (m, 1)", origin,
                                 shape_text(y.shape)));
  Matrix Y(Shape{1, static_cast<std::int64_t>(y.values.size())});
  Y.values = y.values;
  return Y;
}

// X (n_x x m) from an array holding m samples. The first axis is the sample
// axis, except that a 2-d (n_x, m) array (the notes' layout) is taken as is
// when only its second axis matches the label count.
Matrix features_from(const Array& x, std::int64_t m, std::string_view origin, bool scale) {
  const auto& s = x.shape;
  const bool features_first = s.size() == 2 && s[1] == m && s[0] != m;
  if (s.empty() || (!features_first && s[0] != m))
    throw InputError(fmt::format("{}: features have shape {} but there are {} labels", origin, shape_text(s), m));
  const std::int64_t n = m == 0 ? 0 : static_cast<std::int64_t>(x.values.size()) / m;
  Matrix X(Shape{n, m});
  const double divisor = (scale && x.descr == "|u1") ? 255.0 : 1.0;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t k = 0; k < n; ++k) {
      const double v = features_first ? x.values[static_cast<std::size_t>(k * m + i)]
                                      : x.values[static_cast<std::size_t>(i * n + k)];
      X(k, i) = v / divisor;
    }
  return X;
}

std::string header_note(const std::string& origin, const std::vector<std::string>& header) {
  return fmt::format("{}: line 1 is a header ({}); skipped", origin, fmt::join(header, ", "));
}

Matrix read_label_file(const std::filesystem::path& path, std::vector<std::string>& notes) {
  const std::string origin = path.string();
  if (path.extension() == ".npy") return labels_from(read_npy(path), origin);
  const CsvTable t = read_csv_table(path);
  if (!t.header.empty()) notes.push_back(header_note(origin, t.header));
  const Matrix& m = t.values;
  if (m.cols() != 1)
    throw InputError(fmt::format("{}: a label file has one label per line, found {} fields", origin, m.cols()));
  Matrix Y(Shape{1, m.rows()});
  Y.values = m.values;
  return Y;
}

void validate(const Dataset& d) {
  if (d.X.cols() == 0) throw InputError(fmt::format("{}: the data set has no samples", d.origin));
  if (d.X.rows() == 0) throw InputError(fmt::format("{}: the samples have no features", d.origin));
  if (d.Y.rows() > 0 && d.Y.cols() != d.X.cols())
    throw InputError(fmt::format("{}: {} labels for {} samples", d.origin, d.Y.cols(), d.X.cols()));
  for (std::size_t k = 0; k < d.X.values.size(); ++k)
    if (!std::isfinite(d.X.values[k]))
      throw InputError(fmt::format("{}: sample index {} (feature {}) is {:g}", d.origin, k % static_cast<std::size_t>(d.X.cols()),
                                   k / static_cast<std::size_t>(d.X.cols()), d.X.values[k]));
  for (std::size_t i = 0; i < d.Y.values.size(); ++i)
    if (!std::isfinite(d.Y.values[i]))
      throw InputError(fmt::format("{}: the label of sample index {} is {:g}", d.origin, i, d.Y.values[i]));
}

Dataset from_arrays(const NamedArrays& arrays, const LoadOptions& opts, const std::string& origin) {
  const auto [x, y] = pick_xy(arrays, origin);
  Dataset d;
  d.origin = origin;
  if (opts.features_only) {  // every sample along the first axis
    const std::int64_t m = x->shape.empty() ? 0 : x->shape[0];
    d.X = features_from(*x, m, origin, opts.scale);
    d.Y = Matrix(Shape{0, m});
    return d;
  }
  if (!y && !opts.labels)
    throw InputError(fmt::format("{}: no label array (y, Y or *_y) and no label file given", origin));
  d.Y = opts.labels ? read_label_file(*opts.labels, d.notes) : labels_from(*y, origin);
  d.X = features_from(*x, d.Y.cols(), origin, opts.scale);
  return d;
}

// A label is a class number; a last column that holds other values is more
// likely a feature of a file whose labels are elsewhere.
void check_label_column(const Dataset& d) {
  for (std::size_t i = 0; i < d.Y.values.size(); ++i) {
    const double v = d.Y.values[i];
    if (std::isfinite(v) && v != std::floor(v))
      throw InputError(fmt::format("{}: the last column is taken as the labels, but sample index {} has {} "
                                   "there, not a class number; if every column is a feature, give the labels "
                                   "with --labels FILE",
                                   d.origin, i, v));
  }
}

Dataset load_csv(const std::filesystem::path& path, const LoadOptions& opts) {
  const CsvTable table = read_csv_table(path);
  const Matrix& rows = table.values;  // samples x fields
  Dataset d;
  d.origin = path.string();
  if (!table.header.empty()) d.notes.push_back(header_note(d.origin, table.header));
  const std::int64_t m = rows.rows();
  const bool all_features = opts.labels || opts.features_only;
  const std::int64_t n = all_features ? rows.cols() : rows.cols() - 1;
  if (n == 0)
    throw InputError(fmt::format("{}: one column only: need features and a label (or a label file)", d.origin));
  d.X = Matrix(Shape{n, m});
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t k = 0; k < n; ++k) d.X(k, i) = rows(i, k);
  if (opts.features_only) {
    d.Y = Matrix(Shape{0, m});
  } else if (opts.labels) {
    d.Y = read_label_file(*opts.labels, d.notes);
  } else {
    d.Y = Matrix(Shape{1, m});
    for (std::int64_t i = 0; i < m; ++i) d.Y(0, i) = rows(i, n);
    d.labels_from_last_column = true;
    if (opts.class_labels) check_label_column(d);
  }
  return d;
}

}  // namespace

Dataset load_dataset(const std::filesystem::path& data, const LoadOptions& opts) {
  std::string ext = data.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  Dataset d;
  if (ext == ".h5" || ext == ".hdf5") {
    d = from_arrays(read_h5(data), opts, data.string());
  } else if (ext == ".npz") {
    d = from_arrays(read_npz(data), opts, data.string());
  } else if (ext == ".npy") {
    if (!opts.labels && !opts.features_only) throw InputError(fmt::format("{}: an .npy data file needs a label file", data.string()));
    d = from_arrays({{"x", read_npy(data)}}, opts, data.string());
  } else if (ext == ".csv" || ext == ".txt") {
    d = load_csv(data, opts);
  } else {
    throw InputError(fmt::format("{}: unknown data format '{}' (want .h5, .npz, .npy or .csv)", data.string(), ext));
  }
  validate(d);
  return d;
}

void check_binary_labels(const Matrix& Y, std::string_view origin) {
  for (std::size_t i = 0; i < Y.values.size(); ++i)
    if (Y.values[i] != 0.0 && Y.values[i] != 1.0)
      throw InputError(fmt::format("{}: label of sample index {} is {:g}, expected 0 or 1", origin, i, Y.values[i]));
}

void check_binary_labels(const Dataset& d) {
  try {
    check_binary_labels(d.Y, d.origin);
  } catch (const InputError& e) {
    if (!d.labels_from_last_column) throw;
    throw InputError(fmt::format("{} (the last column is taken as the labels; if it is a feature, give the "
                                 "labels with --labels FILE)", e.what()));
  }
}

namespace {

// Uniform in [0, n) by rejection, so the split is the same on every platform
// (std::uniform_int_distribution's algorithm is implementation-defined).
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t r;
  do r = rng(); while (r >= limit);
  return r % n;
}

Matrix columns_of(const Matrix& from, const std::vector<std::int64_t>& cols) {
  const auto m = static_cast<std::int64_t>(cols.size());
  Matrix out(Shape{from.rows(), m});
  for (std::int64_t j = 0; j < m; ++j)
    for (std::int64_t k = 0; k < from.rows(); ++k) out(k, j) = from(k, cols[j]);
  return out;
}

Dataset take_columns(const Dataset& d, const std::vector<std::int64_t>& cols, std::string_view part) {
  Dataset out;
  out.origin = fmt::format("{} ({} split)", d.origin, part);
  out.X = columns_of(d.X, cols);
  out.Y = columns_of(d.Y, cols);
  for (const auto& [name, values] : d.inputs) out.inputs.emplace_back(name, columns_of(values, cols));
  return out;
}

}  // namespace

std::pair<Dataset, Dataset> split_train_dev(const Dataset& data, double dev_ratio, std::uint64_t seed) {
  const std::int64_t m = data.samples();
  if (!(dev_ratio >= 0.0 && dev_ratio < 1.0))
    throw InputError(fmt::format("{}: dev ratio {} is not in [0, 1)", data.origin, dev_ratio));
  const auto n_dev = static_cast<std::int64_t>(std::llround(static_cast<double>(m) * dev_ratio));
  if (n_dev >= m)
    throw InputError(fmt::format("{}: a dev ratio of {} leaves no training samples out of {}", data.origin,
                                 dev_ratio, m));
  std::vector<std::int64_t> order(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  for (std::int64_t i = m - 1; i > 0; --i)
    std::swap(order[i], order[uniform_below(rng, static_cast<std::uint64_t>(i) + 1)]);
  const std::vector<std::int64_t> dev(order.begin(), order.begin() + n_dev);
  const std::vector<std::int64_t> train(order.begin() + n_dev, order.end());
  return {take_columns(data, train, "train"), take_columns(data, dev, "dev")};
}

}  // namespace dagrad::io
