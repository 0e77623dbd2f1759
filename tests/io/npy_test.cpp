#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "dagrad/io/npy.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;
using namespace dagrad::io;
using dagrad::io::test::TempDir;

namespace {

// A .npy built by hand: magic, version, little-endian header length, header.
std::vector<std::uint8_t> npy_with_header(int major, const std::string& header,
                                          const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(major), 0};
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < len_bytes; ++i) b.push_back(static_cast<std::uint8_t>(header.size() >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

template <typename T>
std::vector<std::uint8_t> raw(std::initializer_list<T> values, bool big_endian = false) {
  std::vector<std::uint8_t> out;
  for (T v : values) {
    std::uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof v);
    if (big_endian) std::reverse(b, b + sizeof v);
    const std::size_t at = out.size();
    out.resize(at + sizeof v);
    std::memcpy(out.data() + at, b, sizeof v);
  }
  return out;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("npy round-trips f64 values bit for bit in 0, 1 and 2 dims", "[io]") {
  const std::vector<double> tricky = {0.1, -0.0, 1e-310, DBL_MAX, M_PI, -1.0 / 3.0};
  for (const auto& shape : {std::vector<std::int64_t>{}, {6}, {2, 3}}) {
    Array a{shape, DType::f64, "<f8", shape.empty() ? std::vector<double>{0.1} : tricky};
    const Array b = read_npy_bytes(write_npy_bytes(a), "mem.npy");
    CHECK(b.shape == a.shape);
    CHECK(b.dtype == DType::f64);
    CHECK(same_bits(b.values, a.values));
  }
}

TEST_CASE("npy round-trips f32 values exactly through double", "[io]") {
  std::vector<double> v;
  for (float f : {0.1f, -0.0f, 1e-40f, FLT_MAX, 3.14159f, -1.0f / 3.0f}) v.push_back(f);
  Array a{{3, 2}, DType::f32, "<f4", v};
  const auto bytes = write_npy_bytes(a);
  CHECK(std::string(bytes.begin(), bytes.end()).find("'descr': '<f4'") != std::string::npos);
  CHECK((bytes.size() - v.size() * 4) % 64 == 0);  // header padded to 64 bytes as numpy does
  const Array b = read_npy_bytes(bytes, "mem.npy");
  CHECK(b.dtype == DType::f32);
  CHECK(b.shape == std::vector<std::int64_t>{3, 2});
  CHECK(same_bits(b.values, v));
}

TEST_CASE("npy fortran_order True is transposed into row-major", "[io]") {
  // A = [[1,2,3],[4,5,6]] stored column by column: 1 4 2 5 3 6.
  const auto b = npy_with_header(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }\n",
                                 raw<double>({1, 4, 2, 5, 3, 6}));
  const Array a = read_npy_bytes(b, "f.npy");
  CHECK(a.values == std::vector<double>{1, 2, 3, 4, 5, 6});
  const Matrix m = to_matrix(a, "f.npy");
  CHECK(m(1, 0) == 4.0);
}

TEST_CASE("npy versions 2.0 and 3.0, other quoting and integer, bool, big-endian types", "[io]") {
  const auto v2 = npy_with_header(2, "{\"shape\":(3,),\"fortran_order\":False,\"descr\":\"<i8\"}\n",
                                  raw<std::int64_t>({-5, 0, 1LL << 40}));
  CHECK(read_npy_bytes(v2, "v2.npy").values == std::vector<double>{-5, 0, 1099511627776.0});
  const auto v3 = npy_with_header(3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2)}   \n",
                                  {0, 17, 255, 128});
  const Array u = read_npy_bytes(v3, "v3.npy");
  CHECK(u.values == std::vector<double>{0, 17, 255, 128});
  CHECK(u.descr == "|u1");
  CHECK(u.dtype == DType::f64);
  const auto be = npy_with_header(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }\n",
                                  raw<std::int32_t>({-2, 70000}, true));
  CHECK(read_npy_bytes(be, "be.npy").values == std::vector<double>{-2, 70000});
  const auto bf = npy_with_header(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (), }\n",
                                  raw<double>({0.1}, true));
  CHECK(read_npy_bytes(bf, "bf.npy").values == std::vector<double>{0.1});
  const auto bo = npy_with_header(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }\n", {1, 0, 1});
  CHECK(read_npy_bytes(bo, "b.npy").values == std::vector<double>{1, 0, 1});
}

TEST_CASE("npy errors name the file and the byte offset", "[io]") {
  TempDir dir;
  const auto path = dir / "weights.npy";
  auto good = write_npy_bytes(Array{{4}, DType::f64, "<f8", {1, 2, 3, 4}});

  SECTION("truncated data") {
    good.resize(good.size() - 3);
    test::put_bytes(path, good);
    CHECK_INPUT_ERROR(read_npy(path), "weights.npy: truncated .npy data");
    CHECK_INPUT_ERROR(read_npy(path), "from byte 128");
  }
  SECTION("truncated header") {
    good.resize(30);
    test::put_bytes(path, good);
    CHECK_INPUT_ERROR(read_npy(path), "weights.npy: truncated .npy header");
  }
  SECTION("bad magic") {
    good[1] = 'X';
    test::put_bytes(path, good);
    CHECK_INPUT_ERROR(read_npy(path), "weights.npy: not a .npy file");
  }
  SECTION("bad header dict") {
    test::put_bytes(path, npy_with_header(1, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,)}\n", raw<double>({1})));
    CHECK_INPUT_ERROR(read_npy(path), "weights.npy: bad .npy header at byte 44: expected a string");
  }
  SECTION("missing key and unsupported dtype") {
    test::put_bytes(path, npy_with_header(1, "{'descr': '<f8', 'shape': (1,)}\n", raw<double>({1})));
    CHECK_INPUT_ERROR(read_npy(path), "weights.npy: .npy header must have");
    test::put_bytes(path, npy_with_header(1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}\n", raw<double>({1, 0})));
    CHECK_INPUT_ERROR(read_npy(path), "weights.npy: unsupported .npy dtype '<c16'");
  }
  SECTION("trailing bytes") {
    good.push_back(0);
    test::put_bytes(path, good);
    CHECK_INPUT_ERROR(read_npy(path), "weights.npy: 1 unexpected bytes");
  }
  SECTION("missing file") {
    CHECK_INPUT_ERROR(read_npy(dir / "absent.npy"), "absent.npy: cannot open");
  }
}

TEST_CASE("npy file written by dagrad is read by numpy", "[io]") {
  if (!test::have_numpy()) {
    dagrad::support::missing_dependency("numpy (python3-numpy)", "the numpy cross-check");
    return;
  }
  TempDir dir;
  Array a{{2, 3}, DType::f64, "<f8", {}};
  for (int i = 0; i < 6; ++i) a.values.push_back(i / 7.0);
  write_npy(dir / "a.npy", a);
  CHECK(test::run_python(dir.path(), "import numpy as np\n"
                                      "a = np.load('a.npy')\n"
                                      "assert a.dtype == np.float64 and a.shape == (2, 3)\n"
                                      "assert np.array_equal(a, np.arange(6).reshape(2, 3) / 7.0)\n"));
}
