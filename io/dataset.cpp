#include "dagrad/io/dataset.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <tuple>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/csv.hpp"
#include "dagrad/io/h5.hpp"
#include "dagrad/io/npz.hpp"
#include "dagrad/io/shard.hpp"

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

// The axis of a label array's samples: its one axis longer than 1 (or 0).
int label_axis(const std::vector<std::int64_t>& shape, std::string_view origin) {
  int axis = -1;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1) {
      if (axis >= 0)
        throw InputError(fmt::format("{}: labels have shape {}; expected (m,), (1, m) or (m, 1)", origin,
                                     shape_text(shape)));
      axis = static_cast<int>(d);
    }
  return std::max(axis, 0);
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

// Whether an array of `shape` holding m samples keeps them on its second
// axis: a 2-d (n_x, m) array (the notes' layout) whose second axis alone
// matches the label count. Otherwise the first axis is the sample axis.
bool features_first(const std::vector<std::int64_t>& s, std::int64_t m) {
  return s.size() == 2 && s[1] == m && s[0] != m;
}

void check_sample_axis(const std::vector<std::int64_t>& s, std::int64_t m, std::string_view origin) {
  if (s.empty() || (!features_first(s, m) && s[0] != m))
    throw InputError(fmt::format("{}: features have shape {} but there are {} labels", origin, shape_text(s), m));
}

// X (n_x x m) from an array holding m samples, on its second axis when
// `by_columns` (features_first), else on its first.
Matrix features_from(const Array& x, std::int64_t m, std::string_view origin, bool scale, bool by_columns) {
  const auto& s = x.shape;
  if (s.empty() || s[by_columns ? 1 : 0] != m)
    throw InputError(fmt::format("{}: features have shape {} but there are {} labels", origin, shape_text(s), m));
  std::int64_t n = by_columns ? s[0] : 1;
  if (!by_columns)
    for (std::size_t d = 1; d < s.size(); ++d) n *= s[d];
  Matrix X(Shape{n, m});
  const double divisor = (scale && x.descr == "|u1") ? 255.0 : 1.0;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t k = 0; k < n; ++k) {
      const double v = by_columns ? x.values[static_cast<std::size_t>(k * m + i)]
                                  : x.values[static_cast<std::size_t>(i * n + k)];
      X(k, i) = v / divisor;
    }
  return X;
}

Matrix features_from(const Array& x, std::int64_t m, std::string_view origin, bool scale) {
  check_sample_axis(x.shape, m, origin);
  return features_from(x, m, origin, scale, features_first(x.shape, m));
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

// The index in the whole file of a shard's first sample (0 for a whole set):
// messages name a sample by it.
std::int64_t first_index(const Dataset& d) { return d.index.empty() ? 0 : d.index.front(); }

void validate(const Dataset& d) {
  if (d.total_samples() == 0) throw InputError(fmt::format("{}: the data set has no samples", d.origin));
  if (d.X.rows() == 0) throw InputError(fmt::format("{}: the samples have no features", d.origin));
  if (d.Y.rows() > 0 && d.Y.cols() != d.X.cols())
    throw InputError(fmt::format("{}: {} labels for {} samples", d.origin, d.Y.cols(), d.X.cols()));
  const auto at = static_cast<std::size_t>(first_index(d));
  for (std::size_t k = 0; k < d.X.values.size(); ++k)
    if (!std::isfinite(d.X.values[k]))
      throw InputError(fmt::format("{}: sample index {} (feature {}) is {:g}", d.origin,
                                   at + k % static_cast<std::size_t>(d.X.cols()),
                                   k / static_cast<std::size_t>(d.X.cols()), d.X.values[k]));
  for (std::size_t i = 0; i < d.Y.values.size(); ++i)
    if (!std::isfinite(d.Y.values[i]))
      throw InputError(fmt::format("{}: the label of sample index {} is {:g}", d.origin, at + i, d.Y.values[i]));
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
                                   "with --labels FILE; for real-valued labels use --output linear",
                                   d.origin, first_index(d) + static_cast<std::int64_t>(i), v));
  }
}

// The labels of a label file (one per line, or an .npy array), or the
// shard's part of them and how many the file holds.
std::pair<Matrix, std::int64_t> read_labels(const std::filesystem::path& path, const Shard& shard,
                                            std::vector<std::string>& notes) {
  if (shard.parts == 1) {
    Matrix Y = read_label_file(path, notes);
    const std::int64_t m = Y.cols();
    return {std::move(Y), m};
  }
  const std::string origin = path.string();
  if (path.extension() == ".npy") {
    const std::vector<std::int64_t> shape = read_npy_shape(path);
    const int axis = label_axis(shape, origin);
    const std::int64_t total = shape.empty() ? 1 : shape[static_cast<std::size_t>(axis)];
    const auto [b, e] = part_of(total, shard);
    return {labels_from(shape.empty() ? read_npy(path) : read_npy_range(path, axis, b, e), origin), total};
  }
  const CsvPart t = read_csv_part(path, shard.part, shard.parts);
  if (!t.table.header.empty()) notes.push_back(header_note(origin, t.table.header));
  const Matrix& m = t.table.values;
  if (m.cols() != 1)
    throw InputError(fmt::format("{}: a label file has one label per line, found {} fields", origin, m.cols()));
  Matrix Y(Shape{1, m.rows()});
  Y.values = m.values;
  return {std::move(Y), t.total};
}

Dataset load_csv(const std::filesystem::path& path, const LoadOptions& opts) {
  CsvPart part;
  if (opts.shard.parts > 1) {
    part = read_csv_part(path, opts.shard.part, opts.shard.parts);
  } else {
    part.table = read_csv_table(path);
    part.total = part.table.values.rows();
  }
  const CsvTable& table = part.table;
  const Matrix& rows = table.values;  // samples x fields
  Dataset d;
  d.origin = path.string();
  if (opts.shard.parts > 1) make_shard(d, part.first, part.first + rows.rows(), part.total);
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
    std::int64_t labels = 0;
    std::tie(d.Y, labels) = read_labels(*opts.labels, opts.shard, d.notes);
    if (labels != part.total)
      throw InputError(fmt::format("{}: {} labels for {} samples", d.origin, labels, part.total));
  } else {
    d.Y = Matrix(Shape{1, m});
    for (std::int64_t i = 0; i < m; ++i) d.Y(0, i) = rows(i, n);
    d.labels_from_last_column = true;
    if (opts.class_labels) check_label_column(d);
  }
  return d;
}

// A shard of a data set stored as arrays (.h5, .npy): from their shapes
// alone the labels' count and the features' sample axis, then only the
// shard's part of each array (`read(name, axis, begin, end)`).
template <class Read>
Dataset shard_from_arrays(const NamedArrays& shapes, const LoadOptions& opts, const std::string& origin,
                          Read read) {
  const auto [x, y] = pick_xy(shapes, origin);
  auto name_of = [&](const Array* a) {
    for (const auto& [name, arr] : shapes)
      if (&arr == a) return name;
    return std::string();
  };
  Dataset d;
  d.origin = origin;
  std::int64_t total = 0;
  if (opts.features_only) {
    total = x->shape.empty() ? 0 : x->shape[0];
  } else if (opts.labels) {
    std::tie(d.Y, total) = read_labels(*opts.labels, opts.shard, d.notes);
  } else if (!y) {
    throw InputError(fmt::format("{}: no label array (y, Y or *_y) and no label file given", origin));
  } else {
    const int axis = label_axis(y->shape, origin);
    total = y->shape.empty() ? 1 : y->shape[static_cast<std::size_t>(axis)];
    const auto [b, e] = part_of(total, opts.shard);
    d.Y = labels_from(read(name_of(y), y->shape.empty() ? -1 : axis, b, e), origin);
  }
  const bool by_columns = !opts.features_only && features_first(x->shape, total);
  if (!opts.features_only) check_sample_axis(x->shape, total, origin);
  const auto [b, e] = part_of(total, opts.shard);
  d.X = features_from(read(name_of(x), by_columns ? 1 : 0, b, e), e - b, origin, opts.scale, by_columns);
  if (opts.features_only) d.Y = Matrix(Shape{0, e - b});
  make_shard(d, b, e, total);
  return d;
}

}  // namespace

Dataset load_dataset(const std::filesystem::path& data, const LoadOptions& opts) {
  std::string ext = data.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const Shard& shard = opts.shard;
  if (shard.parts < 1 || shard.part < 0 || shard.part >= shard.parts)
    throw InputError(fmt::format("{}: part {} of {} does not exist", data.string(), shard.part, shard.parts));
  const bool part = shard.parts > 1;
  Dataset d;
  if (ext == ".h5" || ext == ".hdf5") {
    if (!part) {
      d = from_arrays(read_h5(data), opts, data.string());
    } else {  // a hyperslab of each array
      d = shard_from_arrays(list_h5(data), opts, data.string(), [&](const std::string& name, int axis,
                                                                   std::int64_t b, std::int64_t e) {
        return read_h5_range(data, name, std::max(axis, 0), b, axis < 0 ? 1 : e);
      });
    }
  } else if (ext == ".npz") {
    // NOTE: a zip entry may be compressed, so a part of it cannot be read
    // alone: each process reads the whole archive and keeps its part.
    d = from_arrays(read_npz(data), opts, data.string());
    validate(d);
    check_enough_samples(d, shard);
    return part ? shard_of(d, shard.part, shard.parts) : d;
  } else if (ext == ".npy") {
    if (!opts.labels && !opts.features_only) throw InputError(fmt::format("{}: an .npy data file needs a label file", data.string()));
    if (!part) {
      d = from_arrays({{"x", read_npy(data)}}, opts, data.string());
    } else {  // the part's rows (or columns) of the array
      Array x;
      x.shape = read_npy_shape(data);
      d = shard_from_arrays({{"x", x}}, opts, data.string(), [&](const std::string&, int axis, std::int64_t b,
                                                                  std::int64_t e) {
        return read_npy_range(data, axis, b, e);
      });
    }
  } else if (ext == ".csv" || ext == ".txt") {
    d = load_csv(data, opts);
  } else {
    throw InputError(fmt::format("{}: unknown data format '{}' (want .h5, .npz, .npy or .csv)", data.string(), ext));
  }
  check_enough_samples(d, shard);
  validate(d);
  return d;
}

void check_binary_labels(const Matrix& Y, std::string_view origin, std::int64_t first) {
  for (std::size_t i = 0; i < Y.values.size(); ++i)
    if (const double y = Y.values[i]; y != 0.0 && y != 1.0) {
      // One sigmoid unit takes 0/1: point at the output that takes the label.
      const bool class_number = y > 1 && y == std::floor(y);
      throw InputError(fmt::format("{}: label of sample index {} is {:g}, expected 0 or 1 for one sigmoid output "
                                   "unit; {}", origin, first + static_cast<std::int64_t>(i), y,
                                   class_number ? "for K classes numbered 0..K-1 use --output softmax with K "
                                                  "output units (the last of --layers)"
                                                : "for real-valued labels use --output linear"));
    }
}

void check_binary_labels(const Dataset& d) {
  try {
    check_binary_labels(d.Y, d.origin, first_index(d));
  } catch (const InputError& e) {
    if (!d.labels_from_last_column) throw;
    throw InputError(fmt::format("{} (the last column is taken as the labels; if it is a feature, give the "
                                 "labels with --labels FILE)", e.what()));
  }
}

}  // namespace dagrad::io
