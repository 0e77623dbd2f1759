// Inputs that once crashed or misbehaved under the fuzzers (fuzz/), kept so the
// fix stays: each must now be refused with an InputError naming the file and
// saying what is wrong. tests/io/regressions/README.md tells each one's story.
//
// The table below is the list of findings: a file in the folder without a
// row fails, and so does a row whose file is missing, so the test cannot
// pass on an empty or half-copied folder.
#include <filesystem>
#include <set>

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

const std::filesystem::path root = std::filesystem::path(DAGRAD_SOURCE_DIR) / "tests/io/regressions";

struct Finding {
  std::string file;    // under regressions/
  std::string expect;  // a fragment of the error
};

// fuzz_h5 finds: a file on which libhdf5 1.10.8 itself segfaults (contained
// by the child process), and a 1.4 KB file whose uint8 dataset claims 3e8
// values (2.4 GB as doubles) that the size bound used to let through.
const std::vector<Finding> findings{
    {"h5/crash-c4eab3d4cef31f850518ac9df0f79b17514a1717", "libhdf5 crashed"},
    {"h5/size-bound-300M-u1.h5", "claims more values than the file can hold"},
};

void feed(const std::filesystem::path& file) {
  const std::string target = file.parent_path().filename().string();
  const std::vector<std::uint8_t> b = test::file_bytes(file);
  const std::string origin = file.filename().string();
  if (target == "npy") read_npy_bytes(b, origin);
  if (target == "npz") read_npz_bytes(b, origin);
  if (target == "csv") parse_csv(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), origin);
  if (target == "h5") read_h5(file);
}

}  // namespace

TEST_CASE("every fuzzer regression input is in the table and is refused with its error", "[io]") {
  std::set<std::string> on_disk, listed;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename() != "README.md")
      on_disk.insert(std::filesystem::relative(e.path(), root).string());
  for (const Finding& f : findings) listed.insert(f.file);
  CHECK(on_disk == listed);
  for (const Finding& f : findings) {
    INFO(f.file);
    REQUIRE(std::filesystem::is_regular_file(root / f.file));
    CHECK_INPUT_ERROR(feed(root / f.file), f.expect);
  }
}

// libhdf5 1.10.8 segfaults on these (fuzz/libhdf5_crashers/README.md): read_h5
// runs it in a child process, so the test process survives and gets an
// InputError naming the file, through load_dataset as well.
TEST_CASE("libhdf5 crashers become an InputError naming the file", "[io][robustness]") {
  test::TempDir tmp;
  int fed = 0;
  for (const Finding& f : findings) {
    if (!f.file.starts_with("h5/crash-")) continue;
    const auto copy = tmp / "bad.h5";
    std::filesystem::copy_file(root / f.file, copy, std::filesystem::copy_options::overwrite_existing);
    INFO(f.file);
    CHECK_INPUT_ERROR(read_h5(copy), "bad.h5");
    CHECK_INPUT_ERROR(load_dataset(copy), "bad.h5: ");
    ++fed;
  }
  CHECK(fed >= 1);
}
