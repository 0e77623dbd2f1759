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

// The part of a data file one process of a data-parallel run reads: of M
// samples, [part M / parts, (part + 1) M / parts). Only those samples are
// read from the file (CSV rows, .npy rows, an .h5 hyperslab).
struct Shard {
  int part = 0, parts = 1;
};

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
  // One process's part of the samples (a Dataset with index and total).
  Shard shard = {};
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
  // A shard (one process's part of a data set, LoadOptions::shard): the
  // index of each column's sample in the whole set, ascending, and the
  // whole set's sample count. Empty and 0 for a whole data set.
  std::vector<std::int64_t> index = {};
  std::int64_t total = 0;
  std::int64_t samples() const { return X.cols(); }
  bool is_shard() const { return total > 0; }
  // The whole set's sample count, whether or not this is a shard.
  std::int64_t total_samples() const { return total > 0 ? total : samples(); }
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
// `first`: the index of Y's first sample in its file (a shard's).
void check_binary_labels(const Matrix& Y, std::string_view origin, std::int64_t first = 0);
// The same for a data set; for labels from a CSV's last column the message
// adds that the column may be a feature and names --labels.
void check_binary_labels(const Dataset& d);

// A reproducible split: a seeded Fisher-Yates shuffle (mt19937_64) of the
// sample indices; the first round(m * dev_ratio) go to dev, the rest to train.
// Returns {train, dev}; dev_ratio must be in [0, 1) and train non-empty.
// Of a shard, the shards of the whole set's split that it holds: the same
// samples with the same indices as the split of the whole set, in each
// process's part.

std::pair<Dataset, Dataset> split_train_dev(const Dataset& data, double dev_ratio, std::uint64_t seed);

// Process `part`'s shard of a whole data set, of `parts`: the samples
// [part M / parts, (part + 1) M / parts), as LoadOptions::shard reads them.
Dataset shard_of(const Dataset& data, int part, int parts);

}  // namespace dagrad::io
