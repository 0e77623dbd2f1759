// Entry names in the zip container of .npz and .dagrad files (issue 19): any
// UTF-8 name round-trips, and a name that is not printable UTF-8 is refused
// when the archive is written, not when it is read back.
#include <string>

#include "dagrad/io/zip.hpp"
#include "tests/io/io_test_util.hpp"

using namespace dagrad;
using namespace dagrad::io;

TEST_CASE("zip: UTF-8 entry names round-trip, stored and deflated", "[io]") {
  // "Poids_é1.npy", "échelle.npy", a CJK and a 4-byte name: bytes past 0x7F,
  // negative as char, which the reader once compared as unsigned.
  const std::vector<std::string> names{"Poids_\xc3\xa9" "1.npy", "\xc3\xa9" "chelle.npy", "\xe9\x87\x8d.npy",
                                       "\xf0\x9f\x98\x80.npy", "plain.npy"};
  for (const Compression how : {Compression::stored, Compression::deflated}) {
    ZipArchive a;
    for (std::size_t k = 0; k < names.size(); ++k)
      a.entries.push_back({names[k], std::vector<std::uint8_t>(10 + k, static_cast<std::uint8_t>(k))});
    const std::vector<std::uint8_t> bytes = write_zip_bytes(a, how);
    const ZipArchive back = read_zip_bytes(bytes, "names.zip");
    REQUIRE(back.entries.size() == names.size());
    for (std::size_t k = 0; k < names.size(); ++k) {
      CHECK(back.entries[k].name == names[k]);
      CHECK(back.entries[k].data == a.entries[k].data);
    }
  }
}

TEST_CASE("zip: a name that is not printable UTF-8 is refused when written", "[io]") {
  for (const std::string& name : {std::string("W\x1b[31m1.npy"), std::string("a\nb.npy"), std::string("\xff\xfe.npy"),
                                 std::string("x\0y.npy", 7)}) {
    ZipArchive a;
    a.entries.push_back({name, {1, 2, 3}});
    CHECK_THROWS_AS(write_zip_bytes(a, Compression::stored), InputError);
    CHECK_THROWS_WITH(write_zip_bytes(a, Compression::stored), Catch::Contains("is not printable UTF-8 text"));
  }
}
