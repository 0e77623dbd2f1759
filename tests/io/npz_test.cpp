#include "dagrad/io/npz.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;
using namespace dagrad::io;
using dagrad::io::test::TempDir;

namespace {

NamedArrays sample_arrays() {
  Array w{{3, 4}, DType::f64, "<f8", {}};
  for (int i = 0; i < 12; ++i) w.values.push_back(i / 7.0);
  Array v{{2, 3}, DType::f32, "<f4", {}};
  for (int i = 0; i < 6; ++i) v.values.push_back(static_cast<float>(i) / 3.0f);
  return {{"w", w}, {"v", v}};
}

void put_le(std::vector<std::uint8_t>& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

TEST_CASE("npz round-trips f32 and f64 arrays, stored and deflated", "[io]") {
  const NamedArrays arrays = sample_arrays();
  for (const Compression how : {Compression::stored, Compression::deflated}) {
    const auto back = read_npz_bytes(write_npz_bytes(arrays, how), "mem.npz");
    REQUIRE(back.size() == 2);
    CHECK(back[0].first == "w");
    CHECK(back[0].second.values == arrays[0].second.values);
    CHECK(back[1].second.dtype == DType::f32);
    CHECK(back[1].second.values == arrays[1].second.values);
  }
}

TEST_CASE("numpy reads dagrad's npz and dagrad reads np.savez and np.savez_compressed", "[io]") {
  if (!test::have_numpy()) {
    dagrad::support::missing_dependency("numpy (python3-numpy)", "the numpy cross-check");
    return;
  }
  TempDir dir;
  write_npz(dir / "stored.npz", sample_arrays(), Compression::stored);
  write_npz(dir / "deflated.npz", sample_arrays(), Compression::deflated);
  REQUIRE(test::run_python(dir.path(), R"(
import numpy as np
for f in ('stored.npz', 'deflated.npz'):
    z = np.load(f)
    assert sorted(z.files) == ['v', 'w'], z.files
    assert z['w'].dtype == np.float64 and np.array_equal(z['w'], np.arange(12).reshape(3, 4) / 7.0)
    assert z['v'].dtype == np.float32
    assert np.array_equal(z['v'], (np.arange(6, dtype=np.float32) / np.float32(3)).reshape(2, 3))
rng = np.arange(20, dtype=np.float64).reshape(4, 5) * 0.1
arrays = dict(a=rng, f=np.asfortranarray(rng), i=np.array([-3, 0, 7], dtype=np.int64),
              u=np.array([[0, 255], [17, 31]], dtype=np.uint8), s=np.float32(0.1),
              big=np.linspace(0, 1, 50000))
np.savez('np_plain.npz', **arrays)
np.savez_compressed('np_compressed.npz', **arrays)
)"));
  for (const char* name : {"np_plain.npz", "np_compressed.npz"}) {
    INFO(name);
    const NamedArrays z = read_npz(dir / name);
    REQUIRE(z.size() == 6);
    for (const char* key : {"a", "f"}) {
      const Array* a = find_array(z, key);
      REQUIRE(a);
      CHECK(a->shape == std::vector<std::int64_t>{4, 5});
      for (int k = 0; k < 20; ++k) CHECK(a->values[k] == k * 0.1);  // row-major even when stored F-order
    }
    CHECK(find_array(z, "i")->values == std::vector<double>{-3, 0, 7});
    CHECK(find_array(z, "u")->values == std::vector<double>{0, 255, 17, 31});
    CHECK(find_array(z, "u")->descr == "|u1");
    CHECK(find_array(z, "s")->shape.empty());
    CHECK(find_array(z, "s")->values[0] == static_cast<double>(0.1f));
    const Array* big = find_array(z, "big");
    REQUIRE(big->values.size() == 50000);
    CHECK(big->values[49999] == 1.0);
    CHECK(big->values[1] == 1.0 / 49999);
  }
}

TEST_CASE("corrupt and truncated npz files give InputError naming the file", "[io]") {
  TempDir dir;
  const auto path = dir / "data.npz";
  for (const Compression how : {Compression::stored, Compression::deflated}) {
    auto bytes = write_npz_bytes(sample_arrays(), how);
    SECTION("flipped data byte " + std::to_string(static_cast<int>(how))) {
      bytes[120] ^= 0x40;  // inside the first entry's data
      test::put_bytes(path, bytes);
      CHECK_THROWS_AS(read_npz(path), InputError);
      CHECK_THROWS_WITH(read_npz(path), Catch::Contains("data.npz") && Catch::Contains("byte"));
    }
    SECTION("truncated " + std::to_string(static_cast<int>(how))) {
      for (const std::size_t keep : {bytes.size() - 1, bytes.size() / 2, std::size_t{10}, std::size_t{0}}) {
        test::put_bytes(path, {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep)});
        CHECK_INPUT_ERROR(read_npz(path), "data.npz: bad zip archive at byte");
      }
    }
  }
  SECTION("an entry that is not an npy") {
    ZipArchive z;
    z.entries.push_back({"x.npy", {'h', 'e', 'l', 'l', 'o'}});
    test::put_bytes(path, write_zip_bytes(z, Compression::stored));
    CHECK_INPUT_ERROR(read_npz(path), "data.npz (entry 'x.npy'): not a .npy file");
  }
}

TEST_CASE("zip reader honours ZIP64 extra fields and end records", "[io]") {
  // One stored entry whose central sizes and offset live in a ZIP64 extra
  // field, found through a ZIP64 end record and locator (APPNOTE 4.3.14-15).
  const std::vector<std::uint8_t> data = write_npy_bytes(Array{{2}, DType::f64, "<f8", {1.5, -2.5}});
  const ZipArchive plain{{{"a.npy", data}}, ""};
  const std::vector<std::uint8_t> ref = write_zip_bytes(plain, Compression::stored);
  const std::uint32_t crc = static_cast<std::uint32_t>(ref[14] | ref[15] << 8 | ref[16] << 16 | ref[17] << 24);
  std::vector<std::uint8_t> b;
  put_le(b, 0x04034b50, 4); put_le(b, 45, 2); put_le(b, 0, 2); put_le(b, 0, 2); put_le(b, 0, 4);
  put_le(b, crc, 4); put_le(b, 0xFFFFFFFF, 4); put_le(b, 0xFFFFFFFF, 4); put_le(b, 5, 2); put_le(b, 20, 2);
  b.insert(b.end(), {'a', '.', 'n', 'p', 'y'});
  put_le(b, 1, 2); put_le(b, 16, 2); put_le(b, data.size(), 8); put_le(b, data.size(), 8);
  b.insert(b.end(), data.begin(), data.end());
  const std::size_t cd = b.size();
  put_le(b, 0x02014b50, 4); put_le(b, 45, 2); put_le(b, 45, 2); put_le(b, 0, 2); put_le(b, 0, 2);
  put_le(b, 0, 4); put_le(b, crc, 4); put_le(b, 0xFFFFFFFF, 4); put_le(b, 0xFFFFFFFF, 4);
  put_le(b, 5, 2); put_le(b, 28, 2); put_le(b, 0, 2); put_le(b, 0, 2); put_le(b, 0, 2); put_le(b, 0, 4);
  put_le(b, 0xFFFFFFFF, 4);
  b.insert(b.end(), {'a', '.', 'n', 'p', 'y'});
  put_le(b, 1, 2); put_le(b, 24, 2); put_le(b, data.size(), 8); put_le(b, data.size(), 8); put_le(b, 0, 8);
  const std::size_t cd_size = b.size() - cd, end64 = b.size();
  put_le(b, 0x06064b50, 4); put_le(b, 44, 8); put_le(b, 45, 2); put_le(b, 45, 2); put_le(b, 0, 4); put_le(b, 0, 4);
  put_le(b, 1, 8); put_le(b, 1, 8); put_le(b, cd_size, 8); put_le(b, cd, 8);
  put_le(b, 0x07064b50, 4); put_le(b, 0, 4); put_le(b, end64, 8); put_le(b, 1, 4);
  put_le(b, 0x06054b50, 4); put_le(b, 0, 4); put_le(b, 0xFFFF, 2); put_le(b, 0xFFFF, 2);
  put_le(b, 0xFFFFFFFF, 4); put_le(b, 0xFFFFFFFF, 4); put_le(b, 0, 2);
  const NamedArrays z = read_npz_bytes(b, "zip64.npz");
  REQUIRE(z.size() == 1);
  CHECK(z[0].first == "a");
  CHECK(z[0].second.values == std::vector<double>{1.5, -2.5});
}
