// A data-parallel process reads only its shard of a data file
// (LoadOptions::shard): samples [p M / N, (p + 1) M / N). For every format
// the shards, put side by side, must be the whole file as load_dataset reads
// it, with each column's global index and the whole set's count; and a
// shard's error names the file's own line or sample.
#include <optional>
#include <string>

#include <fmt/format.h>

#include "dagrad/io/csv.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/io/h5.hpp"
#include "dagrad/io/npy.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;
using namespace dagrad::io;
using dagrad::io::test::TempDir;

namespace {

// Load options: a label file (or none), one part of `parts`.
LoadOptions opts(std::optional<std::filesystem::path> labels = std::nullopt, int part = 0, int parts = 1) {
  LoadOptions o;
  o.labels = std::move(labels);
  o.shard = {part, parts};
  return o;
}

// A feature value that differs everywhere: sample i, feature k.
double value(std::int64_t i, std::int64_t k) { return double(i) * 10.0 + double(k) + 0.25; }

// Loads `path` whole and in every shard of 1..5 processes, and checks the
// shards against the whole set, column by column.
void check_shards(const std::filesystem::path& path, LoadOptions o) {
  const Dataset whole = load_dataset(path, o);
  const std::int64_t m = whole.samples();
  for (int parts = 1; parts <= 5; ++parts) {
    std::int64_t next = 0;
    for (int p = 0; p < parts; ++p) {
      o.shard = {p, parts};
      const Dataset s = load_dataset(path, o);
      INFO(path.filename().string() << ": part " << p << " of " << parts);
      REQUIRE(s.total_samples() == m);
      REQUIRE(s.samples() == m * (p + 1) / parts - m * p / parts);
      REQUIRE(s.X.rows() == whole.X.rows());
      REQUIRE(s.Y.rows() == whole.Y.rows());
      if (parts > 1) REQUIRE(s.index.size() == static_cast<std::size_t>(s.samples()));
      for (std::int64_t j = 0; j < s.samples(); ++j, ++next) {
        if (parts > 1) CHECK(s.index[static_cast<std::size_t>(j)] == next);
        for (std::int64_t k = 0; k < s.X.rows(); ++k) CHECK(s.X(k, j) == whole.X(k, next));
        for (std::int64_t k = 0; k < s.Y.rows(); ++k) CHECK(s.Y(k, j) == whole.Y(k, next));
      }
    }
    CHECK(next == m);
  }
}

}  // namespace

TEST_CASE("CSV shards are the file's rows, with a header, labels in the last column or a file", "[io][shard]") {
  TempDir dir;
  std::string with_header = "a,b,label\n", bare, labels = "y\n";
  for (int i = 0; i < 7; ++i) {
    with_header += fmt::format("{},{},{}\n", value(i, 0), value(i, 1), i % 2);
    bare += fmt::format("{},{}\r\n", value(i, 0), value(i, 1));
    labels += fmt::format("{}\n", (i + 1) % 2);
  }
  test::put_text(dir / "h.csv", with_header);
  test::put_text(dir / "bare.csv", bare);
  test::put_text(dir / "y.csv", labels);
  check_shards(dir / "h.csv", opts());
  check_shards(dir / "bare.csv", opts(dir / "y.csv"));
  // The sample values themselves, not only agreement with the whole read.
  const Dataset s = load_dataset(dir / "h.csv", opts(std::nullopt, 1, 2));
  REQUIRE(s.samples() == 4);
  CHECK(s.X(1, 0) == value(3, 1));
  CHECK(s.Y(0, 3) == 0.0);
}

TEST_CASE("CSV shard errors name the file's line, and counts must match", "[io][shard]") {
  TempDir dir;
  test::put_text(dir / "bad.csv", "1,2,0\n3,4,1\n5,x,0\n7,8,1\n");
  // Line 3 is in part 1 of 2 only: part 0 never parses it.
  CHECK_NOTHROW(load_dataset(dir / "bad.csv", opts(std::nullopt, 0, 2)));
  CHECK_INPUT_ERROR(load_dataset(dir / "bad.csv", opts(std::nullopt, 1, 2)), "bad.csv:3");
  test::put_text(dir / "short.csv", "1,2,0\n3,4,1\n5,0\n");
  CHECK_INPUT_ERROR(load_dataset(dir / "short.csv", opts(std::nullopt, 1, 2)), "short.csv:3");
  test::put_text(dir / "x.csv", "1,2\n3,4\n5,6\n");
  test::put_text(dir / "y.csv", "0\n1\n");
  CHECK_INPUT_ERROR(load_dataset(dir / "x.csv", opts(dir / "y.csv", 0, 2)), "2 labels for 3");
  CHECK_INPUT_ERROR(load_dataset(dir / "x.csv", opts(std::nullopt, 2, 2)), "part 2 of 2");
}

TEST_CASE(".npy shards read the sample rows or columns, C or Fortran order", "[io][shard]") {
  TempDir dir;
  Array rows{{7, 3}, DType::f64, "<f8", {}}, cols{{3, 7}, DType::f64, "<f8", {}}, y{{7}, DType::f64, "<f8", {}};
  for (int i = 0; i < 7; ++i) {
    for (int k = 0; k < 3; ++k) rows.values.push_back(value(i, k));
    y.values.push_back(i % 3 == 0);
  }
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 7; ++i) cols.values.push_back(value(i, k));
  write_npy(dir / "rows.npy", rows);
  write_npy(dir / "cols.npy", cols);  // the notes' (n_x, m) layout
  write_npy(dir / "y.npy", y);
  check_shards(dir / "rows.npy", opts(dir / "y.npy"));
  check_shards(dir / "cols.npy", opts(dir / "y.npy"));
  const Dataset s = load_dataset(dir / "cols.npy", opts(dir / "y.npy", 2, 3));
  REQUIRE(s.samples() == 3);
  CHECK(s.X(2, 1) == value(5, 2));
  if (!test::have_numpy()) {
    dagrad::support::missing_dependency("numpy (python3-numpy)", "the Fortran-order .npy shards");
    return;
  }
  REQUIRE(test::run_python(dir.path(), R"(
import numpy as np
x = np.asfortranarray(np.arange(7 * 3, dtype=np.float32).reshape(7, 3) * 1.5 + 0.25)
np.save('fortran.npy', x)
np.save('yf.npy', (np.arange(7) % 2).reshape(1, 7).astype(np.int64))
)"));
  check_shards(dir / "fortran.npy", opts(dir / "yf.npy"));
}

TEST_CASE(".h5 shards are hyperslabs of the images and labels", "[io][shard]") {
  TempDir dir;
  Array x{{6, 2, 3}, DType::f64, "|u1", {}}, y{{1, 6}, DType::f64, "<i8", {}};
  for (int i = 0; i < 6; ++i) {
    for (int k = 0; k < 6; ++k) x.values.push_back((i * 37 + k * 11) % 256);
    y.values.push_back(i % 2);
  }
  write_h5(dir / "set.h5", {{"train_set_x", x}, {"train_set_y", y}});
  check_shards(dir / "set.h5", opts());
  const Dataset s = load_dataset(dir / "set.h5", opts(std::nullopt, 1, 4));
  REQUIRE(s.samples() == 2);  // samples 1 and 2 of 6
  CHECK(s.X(4, 1) == ((2 * 37 + 4 * 11) % 256) / 255.0);
}

TEST_CASE("split_train_dev of shards is the split of the whole set, cut the same way", "[io][shard]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 11; ++i) text += fmt::format("{},{}\n", value(i, 0), i % 2);
  test::put_text(dir / "d.csv", text);
  const auto [train, dev] = split_train_dev(load_dataset(dir / "d.csv"), 0.3, 5);
  for (int parts = 2; parts <= 3; ++parts) {
    std::int64_t train_seen = 0, dev_seen = 0;
    for (int p = 0; p < parts; ++p) {
      const auto [t, d] = split_train_dev(load_dataset(dir / "d.csv", opts(std::nullopt, p, parts)), 0.3, 5);
      CHECK(t.total_samples() == train.samples());
      CHECK(d.total_samples() == dev.samples());
      // Each shard column's index is its column in the whole split.
      for (std::int64_t j = 0; j < t.samples(); ++j, ++train_seen)
        CHECK(t.X(0, j) == train.X(0, t.index[static_cast<std::size_t>(j)]));
      for (std::int64_t j = 0; j < d.samples(); ++j, ++dev_seen)
        CHECK(d.X(0, j) == dev.X(0, d.index[static_cast<std::size_t>(j)]));
    }
    CHECK(train_seen == train.samples());
    CHECK(dev_seen == dev.samples());
  }
}
