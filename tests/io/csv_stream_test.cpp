// io::CsvStream: a CSV read in blocks gives read_csv_table's values, header
// and errors (with the file's line numbers).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dagrad/graph/error.hpp"
#include "dagrad/io/csv.hpp"
#include "tests/io/io_test_util.hpp"

using namespace dagrad;

namespace {

// Every value of the file, read `rows` lines at a time.
std::vector<double> streamed(const std::filesystem::path& p, std::int64_t rows, std::int64_t& blocks) {
  io::CsvStream in(p);
  std::vector<double> all, block;
  blocks = 0;
  while (in.read(rows, block) > 0) {
    all.insert(all.end(), block.begin(), block.end());
    ++blocks;
  }
  return all;
}

}  // namespace

TEST_CASE("csv stream: the values and header of read_csv_table, in blocks", "[io]") {
  io::test::TempDir dir;
  const std::vector<std::string> texts = {
      "x,y\n1,2\n3,4\n5,6\n7,8\n9,10\n\n\n",      // header, blank lines at the end
      "\xEF\xBB\xBF" "1,2\r\n3,4\r\n5,6\r\n",    // BOM, CRLF
      "1,2\r3,4\r5,6\r7,8",                        // old Mac line ends, no final one
  };
  for (const std::string& text : texts) {
    io::test::put_text(dir / "d.csv", text);
    const io::CsvTable t = io::read_csv_table(dir / "d.csv");
    for (std::int64_t rows : {1, 2, 100}) {
      std::int64_t blocks = 0;
      CHECK(streamed(dir / "d.csv", rows, blocks) == t.values.values);
      CHECK(blocks == (t.values.rows() + rows - 1) / rows);
    }
    io::CsvStream in(dir / "d.csv");
    CHECK(in.header() == t.header);
    CHECK(in.fields() == 2);
  }
}

TEST_CASE("csv stream: errors name the file's line, as read_csv_table's do", "[io]") {
  io::test::TempDir dir;
  auto error = [&](const std::string& text) {
    io::test::put_text(dir / "e.csv", text);
    try {
      std::int64_t blocks = 0;
      streamed(dir / "e.csv", 2, blocks);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error("a,b\n1,2\n3,4\n5\n"), Catch::Contains("e.csv:4: 1 fields, but line 2 has 2"));
  CHECK_THAT(error("1,2\n\n3,4\n"), Catch::Contains("e.csv:2: empty line"));
  CHECK_THAT(error("1,2\n3,x\n"), Catch::Contains("e.csv:2: field 2 'x' is not a number"));
  CHECK_THAT(error(""), Catch::Contains("e.csv: the file is empty"));
  CHECK_THAT(error("\n\n"), Catch::Contains("e.csv: the file is empty"));
}
