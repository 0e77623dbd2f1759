// Inputs that once crashed or misbehaved under the fuzzers (fuzz/), kept so the
// fix stays: each must now be refused with an InputError and nothing worse.
#include <filesystem>

#include "dagrad/io/csv.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/io/h5.hpp"
#include "dagrad/io/npy.hpp"
#include "dagrad/io/npz.hpp"
#include "dagrad/io/params.hpp"
#include "tests/io/io_test_util.hpp"

using namespace dagrad;
using namespace dagrad::io;

namespace {

void feed(const std::string& target, const std::filesystem::path& file) {
  const std::vector<std::uint8_t> b = test::file_bytes(file);
  const std::string origin = file.filename().string();
  if (target == "npy") read_npy_bytes(b, origin);
  if (target == "npz") {
    CHECK_THROWS_AS(load_params_bytes(b, origin), InputError);
    read_npz_bytes(b, origin);
  }
  if (target == "csv") parse_csv(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), origin);
  if (target == "h5") read_h5(file);
}

}  // namespace

TEST_CASE("fuzzer regression inputs are refused with InputError", "[io]") {
  const std::filesystem::path root = std::filesystem::path(DAGRAD_SOURCE_DIR) / "tests/io/regressions";
  int fed = 0;
  for (const char* target : {"npy", "npz", "csv", "h5"}) {
    if (!std::filesystem::is_directory(root / target)) continue;
    for (const auto& e : std::filesystem::directory_iterator(root / target)) {
      INFO(e.path().string());
      CHECK_THROWS_AS(feed(target, e.path()), InputError);
      ++fed;
    }
  }
  INFO(fed << " regression inputs");
  SUCCEED();
}

// libhdf5 1.10.8 segfaults on these (fuzz/libhdf5_crashers/README.md): read_h5
// runs it in a child process, so the test process survives and gets an
// InputError naming the file.
TEST_CASE("libhdf5 crashers become an InputError naming the file", "[io][robustness]") {
  const std::filesystem::path dir = std::filesystem::path(DAGRAD_SOURCE_DIR) / "tests/io/regressions/h5";
  test::TempDir tmp;
  int fed = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto copy = tmp / "bad.h5";
    std::filesystem::copy_file(e.path(), copy, std::filesystem::copy_options::overwrite_existing);
    INFO(e.path().string());
    CHECK_INPUT_ERROR(read_h5(copy), "bad.h5");
    CHECK_INPUT_ERROR(load_dataset(copy), "bad.h5: ");
    ++fed;
  }
  CHECK(fed >= 1);
}
