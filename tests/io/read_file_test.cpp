// Readers read regular files only: a FIFO, a character device or a directory
// behind a data file's name is refused at once, naming it, instead of a read
// that waits forever (a FIFO with no writer) or never ends (/dev/zero).
#include <sys/stat.h>

#include "dagrad/io/dataset.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/io/read_file.hpp"
#include "tests/io/io_test_util.hpp"

using namespace dagrad;
using namespace dagrad::io;

TEST_CASE("read_file_bytes refuses what is not a regular file, at once", "[io]") {
  test::TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo.csv").c_str(), 0600) == 0);
  std::filesystem::create_symlink("/dev/zero", dir / "zero.csv");
  std::filesystem::create_directory(dir / "dir.csv");
  CHECK_INPUT_ERROR(read_file_bytes(dir / "fifo.csv"), "fifo.csv: is a FIFO (named pipe), not a regular file");
  CHECK_INPUT_ERROR(read_file_bytes(dir / "zero.csv"), "zero.csv: is a character device, not a regular file");
  CHECK_INPUT_ERROR(read_file_bytes(dir / "dir.csv"), "dir.csv: is a directory, not a regular file");
  CHECK_INPUT_ERROR(read_file_bytes(dir / "missing.csv"), "missing.csv: cannot open: No such file");
  CHECK_INPUT_ERROR(require_regular_file(dir / "fifo.csv"), "fifo.csv: is a FIFO");
  // Through the readers too.
  CHECK_INPUT_ERROR(load_dataset(dir / "fifo.csv"), "FIFO");
  CHECK_INPUT_ERROR(load_params(dir / "zero.csv"), "character device");
  test::put_text(dir / "ok.csv", "1,0\n");
  CHECK(read_file_bytes(dir / "ok.csv").size() == 4);
  require_regular_file(dir / "ok.csv");
}
