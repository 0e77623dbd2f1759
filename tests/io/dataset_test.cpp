#include <cmath>
#include <set>

#include "dagrad/io/dataset.hpp"
#include "dagrad/io/h5.hpp"
#include "dagrad/io/npz.hpp"
#include "tests/io/io_test_util.hpp"

using namespace dagrad;
using namespace dagrad::io;
using dagrad::io::test::TempDir;

namespace {

// Pixel (sample i, row r, col c, channel ch) of a made-up 4x5 RGB image set.
int pixel(int i, int r, int c, int ch) { return (i * 97 + r * 31 + c * 7 + ch * 3) % 256; }

NamedArrays image_set(int m) {
  Array x{{m, 4, 5, 3}, DType::f64, "|u1", {}};
  for (int i = 0; i < m; ++i)
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 5; ++c)
        for (int ch = 0; ch < 3; ++ch) x.values.push_back(pixel(i, r, c, ch));
  Array y{{m}, DType::f64, "<i8", {}};
  for (int i = 0; i < m; ++i) y.values.push_back(i % 2);
  return {{"train_set_x", x}, {"train_set_y", y}};
}

}  // namespace

TEST_CASE("h5 images are flattened per sample in (row, col, channel) order and scaled", "[io]") {
  TempDir dir;
  write_h5(dir / "cats.h5", image_set(3));
  const Dataset d = load_dataset(dir / "cats.h5");
  REQUIRE(d.X.shape == Shape{60, 3});
  REQUIRE(d.Y.shape == Shape{1, 3});
  for (int i = 0; i < 3; ++i)
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 5; ++c)
        for (int ch = 0; ch < 3; ++ch) CHECK(d.X((r * 5 + c) * 3 + ch, i) == pixel(i, r, c, ch) / 255.0);
  CHECK(d.Y.values == std::vector<double>{0, 1, 0});
  const Dataset raw = load_dataset(dir / "cats.h5", {.labels = std::nullopt, .scale = false});
  CHECK(raw.X(2, 1) == pixel(1, 0, 0, 2));
}

TEST_CASE("corrupt h5 files give InputError naming the file", "[io]") {
  TempDir dir;
  write_h5(dir / "good.h5", image_set(2));
  auto bytes = test::file_bytes(dir / "good.h5");
  test::put_bytes(dir / "half.h5", {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2)});
  CHECK_INPUT_ERROR(load_dataset(dir / "half.h5"), "half.h5");
  test::put_bytes(dir / "head.h5", {bytes.begin(), bytes.begin() + 100});
  CHECK_INPUT_ERROR(load_dataset(dir / "head.h5"), "head.h5: HDF5 error");
  test::put_text(dir / "text.h5", "not hdf5 at all");
  CHECK_INPUT_ERROR(load_dataset(dir / "text.h5"), "text.h5: not an HDF5 file");
  write_h5(dir / "nolabels.h5", {image_set(2)[0]});
  CHECK_INPUT_ERROR(load_dataset(dir / "nolabels.h5"), "nolabels.h5: no label array");
}

TEST_CASE("csv data with the label last or in a separate labels file", "[io]") {
  TempDir dir;
  test::put_text(dir / "d.csv", "0.5,-1,1\n2.25,3e2,0\r\n-0.125,+4,1\n\n");
  const Dataset d = load_dataset(dir / "d.csv");
  REQUIRE(d.X.shape == Shape{2, 3});
  CHECK(d.X.values == std::vector<double>{0.5, 2.25, -0.125, -1, 300, 4});
  CHECK(d.Y.values == std::vector<double>{1, 0, 1});
  test::put_text(dir / "y.csv", "1\n0\n1\n");
  const Dataset e = load_dataset(dir / "d.csv", {.labels = dir / "y.csv"});
  REQUIRE(e.X.shape == Shape{3, 3});
  CHECK(e.X(2, 1) == 0.0);
  CHECK(e.Y.values == std::vector<double>{1, 0, 1});
}

TEST_CASE("csv errors name the file and the line", "[io]") {
  TempDir dir;
  const auto p = dir / "bad.csv";
  test::put_text(p, "1,2,0\n3,4\n");
  CHECK_INPUT_ERROR(load_dataset(p), "bad.csv:2: 2 fields, but line 1 has 3");
  test::put_text(p, "1,2,0\n3,cat,1\n");
  CHECK_INPUT_ERROR(load_dataset(p), "bad.csv:2: field 2 'cat' is not a number");
  test::put_text(p, "1,,0\n");
  CHECK_INPUT_ERROR(load_dataset(p), "bad.csv:1: field 2 is empty");
  test::put_text(p, "1,2,0\n\n3,4,1\n");
  CHECK_INPUT_ERROR(load_dataset(p), "bad.csv:2: empty line");
  test::put_text(p, "\n \n");
  CHECK_INPUT_ERROR(load_dataset(p), "bad.csv: the file is empty");
  test::put_text(p, "1,2,0\n3,nan,1\n");
  CHECK_INPUT_ERROR(load_dataset(p), "bad.csv: sample index 1 (feature 1) is nan");
  test::put_text(p, "1,2,0\n3,4,1\n");
  test::put_text(dir / "y.csv", "1\n0\n1\n");
  CHECK_INPUT_ERROR(load_dataset(p, {.labels = dir / "y.csv"}), "bad.csv: 3 labels for 2 samples");
  CHECK_INPUT_ERROR(load_dataset(dir / "none.csv"), "none.csv: cannot open");
  test::put_text(p, "1,2,0\n3,4");  // a truncated last line
  CHECK_INPUT_ERROR(load_dataset(p), "bad.csv:2: 2 fields");
}

TEST_CASE("npz and npy data sets, in either orientation", "[io]") {
  TempDir dir;
  Array samples_first{{3, 2}, DType::f64, "<f8", {1, 2, 3, 4, 5, 6}};  // 3 samples x 2 features
  Array features_first{{2, 3}, DType::f64, "<f8", {1, 3, 5, 2, 4, 6}};  // the notes' X
  Array y{{1, 3}, DType::f64, "<i8", {0, 1, 1}};
  write_npz(dir / "a.npz", {{"x", samples_first}, {"y", y}}, Compression::stored);
  write_npz(dir / "b.npz", {{"X", features_first}, {"Y", y}}, Compression::deflated);
  for (const char* f : {"a.npz", "b.npz"}) {
    const Dataset d = load_dataset(dir / f);
    CHECK(d.X.shape == Shape{2, 3});
    CHECK(d.X.values == std::vector<double>{1, 3, 5, 2, 4, 6});
  }
  write_npy(dir / "x.npy", samples_first);
  write_npy(dir / "y.npy", y);
  CHECK(load_dataset(dir / "x.npy", {.labels = dir / "y.npy"}).Y.values == std::vector<double>{0, 1, 1});
  CHECK_INPUT_ERROR(load_dataset(dir / "x.npy"), "x.npy: an .npy data file needs a label file");
  Array y4{{4}, DType::f64, "<f8", {0, 1, 1, 0}};
  write_npz(dir / "c.npz", {{"x", samples_first}, {"y", y4}}, Compression::stored);
  CHECK_INPUT_ERROR(load_dataset(dir / "c.npz"), "c.npz: features have shape (3, 2) but there are 4 labels");
}

TEST_CASE("check_binary_labels names the first bad sample", "[io]") {
  Matrix Y({1, 4});
  Y.values = {0, 1, 0.5, 2};
  CHECK_INPUT_ERROR(check_binary_labels(Y, "y.csv"), "y.csv: label of sample index 2 is 0.5");
  Y.values = {0, 1, 1, 0};
  CHECK_NOTHROW(check_binary_labels(Y, "y.csv"));
}

TEST_CASE("split_train_dev is a reproducible partition of the samples", "[io]") {
  Dataset d;
  d.origin = "d.csv";
  d.X = Matrix({2, 50});
  d.Y = Matrix({1, 50});
  for (int i = 0; i < 50; ++i) {
    d.X(0, i) = i;
    d.X(1, i) = -i;
    d.Y(0, i) = i % 2;
  }
  const auto [train, dev] = split_train_dev(d, 0.2, 7);
  CHECK(train.samples() == 40);
  CHECK(dev.samples() == 10);
  std::set<double> seen;
  for (const Dataset* part : {&train, &dev})
    for (std::int64_t j = 0; j < part->samples(); ++j) {
      const double i = part->X(0, j);
      CHECK(part->X(1, j) == -i);
      CHECK(part->Y(0, j) == std::fmod(i, 2.0));
      seen.insert(i);
    }
  CHECK(seen.size() == 50);
  CHECK(split_train_dev(d, 0.2, 7).second.X == dev.X);
  CHECK_FALSE(split_train_dev(d, 0.2, 8).second.X == dev.X);
  CHECK_INPUT_ERROR(split_train_dev(d, 1.0, 7), "d.csv: dev ratio 1");
}
