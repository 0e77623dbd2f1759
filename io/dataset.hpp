// Data sets for training and evaluation: X is (n_x x m), one column per
// sample, and Y is (1 x m), as in the notes. Files keep one sample per first
// axis (HDF5 and npz arrays) or per line (CSV), the way the course ships them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dagrad/io/matrix.hpp"

namespace dagrad::io {

struct LoadOptions {
  // A separate label file: one label per line (text) or an .npy array. With it
  // every CSV column is a feature; it replaces the labels of .h5 / .npz files.
  std::optional<std::filesystem::path> labels;
  // Divide uint8 pixel data by 255 as the course does (off: --no-scale).
  bool scale = true;
  // Features only (new data to predict): every CSV column is a feature, an
  // .h5/.npz needs no label array, and Y is left (0 x m).
  bool features_only = false;
  // The labels are class numbers: a CSV's last column holding other values
  // gets a --labels hint. False for regression, whose labels are real.
  bool class_labels = true;
};

struct Dataset {
  Matrix X;            // n_x x m
  Matrix Y;            // 1 x m
  std::string origin;  // the file name, for messages
  // Other inputs indexed by sample (k x m), by the model's input names:
  // sample weights, a second head's labels.
  std::vector<std::pair<std::string, Matrix>> inputs = {};
  // What the reader decided on its own, for the user to see: "x.csv: line 1
  // is a header (x1, x2, label); skipped".
  std::vector<std::string> notes = {};
  // The labels are the last column of a CSV, taken without a label file:
  // a label error then says so (that column may be a feature).
  bool labels_from_last_column = false;
  std::int64_t samples() const { return X.cols(); }
};

// Dispatches on the extension:
//  .h5/.hdf5  datasets named x/y, X/Y or *_x/*_y; uint8 images (m,h,w,c) are
//             flattened per sample in (row, col, channel) order into columns;
//  .npz       the same names; .npy X with opts.labels;
//  .csv       one sample per line, label last unless opts.labels is given.
// A 2-d X stored (n_x, m) instead of (m, n_x) is recognised by the label count.
// Throws InputError for empty data, NaN/Inf (naming the sample) and a label
// count that differs from the sample count.
Dataset load_dataset(const std::filesystem::path& data, const LoadOptions& opts = {});

// InputError naming `origin` and the first sample whose label is not 0 or 1.
void check_binary_labels(const Matrix& Y, std::string_view origin);
// The same for a data set; for labels from a CSV's last column the message
// adds that the column may be a feature and names --labels.
void check_binary_labels(const Dataset& d);

// A reproducible split: a seeded Fisher-Yates shuffle (mt19937_64) of the
// sample indices; the first round(m * dev_ratio) go to dev, the rest to train.
// Returns {train, dev}; dev_ratio must be in [0, 1) and train non-empty.
std::pair<Dataset, Dataset> split_train_dev(const Dataset& data, double dev_ratio, std::uint64_t seed);

}  // namespace dagrad::io
