// Loading a data set the way `dagrad train` and `dagrad eval` take it:
// io::load_dataset, then an optional divisor for pixel CSVs (the cat CSVs
// hold 0..255 ints: scale 255 gives the course's X / 255), and writing one
// as CSV (one sample per row, label last or in a separate file).
#pragma once

#include <filesystem>
#include <optional>

#include "dagrad/io/dataset.hpp"

namespace dagrad::train {

struct DataOptions {
  std::optional<std::filesystem::path> labels;  // separate label file
  bool no_scale = false;  // keep uint8 images (.h5/.npz) as 0..255
  double scale = 0.0;     // > 0: divide every feature by this (and no automatic /255)
  bool features_only = false;  // new data to predict: no labels (io::LoadOptions)
  bool class_labels = true;    // false for regression: real-valued labels
  io::Shard shard = {};        // a data-parallel process's part (io::LoadOptions)
};

io::Dataset load_data(const std::filesystem::path& path, const DataOptions& options);

// Atomic CSV writes; values printed shortest-round-trip, labels as integers.
// With labels_path the data file holds only the features.
void write_csv(const io::Dataset& d, const std::filesystem::path& path,
               const std::optional<std::filesystem::path>& labels_path = std::nullopt);

}  // namespace dagrad::train
