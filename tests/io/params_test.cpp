#include <algorithm>

#include "dagrad/io/params.hpp"
#include "dagrad/io/zip.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;
using namespace dagrad::io;
using dagrad::io::test::TempDir;

namespace {

Matrix filled(Shape s, double start, double step) {
  Matrix m(s);
  for (std::size_t k = 0; k < m.values.size(); ++k) m.values[k] = start + step * static_cast<double>(k);
  return m;
}

NamedMatrices two_layer() {
  return {{"W1", filled({4, 3}, 0.375, 0.25)}, {"b1", filled({4, 1}, -1.0, 0.5)},
          {"W2", filled({1, 4}, 2.0, -0.75)}, {"b2", filled({1, 1}, 0.125, 0)}};
}

// Replaces the first occurrence of `from` by `to` (same length) in the file.
void patch(const std::filesystem::path& p, const std::string& from, const std::string& to) {
  auto b = test::file_bytes(p);
  std::string s(b.begin(), b.end());
  const auto at = s.rfind(from);
  REQUIRE(at != std::string::npos);
  std::copy(to.begin(), to.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
  test::put_bytes(p, b);
}

}  // namespace

TEST_CASE("params round-trip exactly as f64 and as f32", "[io]") {
  TempDir dir;
  save_params(dir / "p.npz", two_layer(), DType::f64);
  CHECK(load_params(dir / "p.npz") == two_layer());
  // Every value above is a dyadic rational, exact in float too.
  save_params(dir / "p32.npz", two_layer(), DType::f32);
  const NamedMatrices back = load_params(dir / "p32.npz");
  CHECK(back == two_layer());
  CHECK(back[1].second.shape == Shape{4, 1});
  CHECK(test::temp_files_in(dir.path()) == 0);
}

TEST_CASE("numpy loads dagrad params and dagrad loads numpy's savez files", "[io]") {
  if (!test::have_numpy()) {
    dagrad::support::missing_dependency("numpy (python3-numpy)", "the numpy cross-check");
    return;
  }
  TempDir dir;
  save_params(dir / "p.npz", two_layer(), DType::f64);
  REQUIRE(test::run_python(dir.path(), R"(
import numpy as np
z = np.load('p.npz')
assert list(z.keys()) == ['W1', 'b1', 'W2', 'b2'], list(z.keys())
assert z['b1'].shape == (4, 1) and z['W1'].shape == (4, 3)
assert np.array_equal(z['W1'], (0.375 + 0.25 * np.arange(12)).reshape(4, 3))
np.random.seed(1)
W1 = np.random.randn(4, 3) * 0.01
np.savez('nb.npz', W1=W1, b1=np.zeros((4, 1)), W2=np.random.randn(1, 4), b2=np.zeros(1))
np.savez_compressed('nbc.npz', W1=W1, b1=np.zeros((4, 1)))
np.savetxt('w1.txt', W1.ravel(), fmt='%r')
)"));
  const NamedMatrices nb = load_params(dir / "nb.npz");
  REQUIRE(nb.size() == 4);
  CHECK(nb[0].first == "W1");
  CHECK(nb[3].second.shape == Shape{1, 1});  // a 1-d bias becomes a column
  // W1 compared element by element, in order, against its repr() text
  // parsed independently.
  std::ifstream txt(dir / "w1.txt");
  std::vector<double> expect;
  for (double v; txt >> v;) expect.push_back(v);
  CHECK(expect.size() == 12);
  CHECK(nb[0].second.values == expect);
  CHECK(load_params(dir / "nbc.npz")[0].second == nb[0].second);
  check_params_against(nb, {{"W1", {4, 3}}, {"b1", {4, 1}}, {"W2", {1, 4}}, {"b2", {1, 1}}}, "nb.npz");
}

TEST_CASE("a params file whose checksum or version does not match is refused", "[io]") {
  TempDir dir;
  const auto path = dir / "params.npz";
  save_params(path, two_layer(), DType::f64);
  const std::string comment = "dagrad-params 1 crc32=";

  SECTION("edited checksum") {
    auto b = test::file_bytes(path);
    char& last = reinterpret_cast<char&>(b.back());
    last = last == '0' ? '1' : '0';
    test::put_bytes(path, b);
    CHECK_INPUT_ERROR(load_params(path), "params.npz: checksum mismatch");
  }
  SECTION("unknown version") {
    patch(path, comment, "dagrad-params 7 crc32=");
    CHECK_INPUT_ERROR(load_params(path), "params.npz: unknown dagrad-params format version '7'");
  }
  SECTION("an array swapped for another with valid zip CRCs") {
    ZipArchive z = read_zip_bytes(test::file_bytes(path), "params.npz");
    std::swap(z.entries[0].name, z.entries[2].name);
    test::put_bytes(path, write_zip_bytes(z, Compression::stored));
    CHECK_INPUT_ERROR(load_params(path), "params.npz: checksum mismatch");
  }
  SECTION("truncated") {
    auto b = test::file_bytes(path);
    b.resize(b.size() / 2);
    test::put_bytes(path, b);
    CHECK_INPUT_ERROR(load_params(path), "params.npz: bad zip archive");
  }
}

TEST_CASE("check_params_against names the parameter and both shapes", "[io]") {
  const NamedMatrices p = {{"W1", Matrix({5, 3})}, {"b1", Matrix({5, 1})}, {"W2", Matrix({1, 7})}};
  CHECK_THROWS_WITH(check_params_against(p, {{"W1", {5, 3}}, {"b1", {5, 1}}, {"W2", {1, 5}}}, "params.npz"),
                    "params.npz: W2 has shape (1x7) but the model needs (1x5)");
  CHECK_INPUT_ERROR(check_params_against(p, {{"W1", {5, 3}}, {"b1", {5, 1}}, {"W2", {1, 7}}, {"b2", {1, 1}}}, "params.npz"),
                    "params.npz: b2 is missing (the model needs (1x1))");
  CHECK_INPUT_ERROR(check_params_against(p, {{"W1", {5, 3}}, {"b1", {5, 1}}}, "params.npz"),
                    "params.npz: W2 is not a parameter of the model");
  CHECK_NOTHROW(check_params_against(p, {{"W1", {5, 3}}, {"b1", {5, 1}}, {"W2", {1, 7}}}, "params.npz"));
}
