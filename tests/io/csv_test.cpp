// CSV as spreadsheets and pandas write it: a header row (detected, kept
// apart and reported), "\r\n" or lone "\r" line ends, a UTF-8 byte-order
// mark, fields in double quotes; and the errors for what is not CSV of
// numbers, which name the file and line and quote bytes escaped.
#include <string>

#include "dagrad/io/csv.hpp"
#include "dagrad/io/dataset.hpp"
#include "tests/io/io_test_util.hpp"

using namespace dagrad;
using namespace dagrad::io;

namespace {

Matrix expected_2x3() {
  Matrix m({2, 3});
  m.values = {1.5, -2, 0, 3, 4e-3, 1};
  return m;
}

}  // namespace

TEST_CASE("csv: the same numbers however the file is written", "[io]") {
  const std::string plain = "1.5,-2,0\n3,4e-3,1\n";
  for (const std::string& text :
       {plain, std::string("1.5,-2,0\r\n3,4e-3,1\r\n"), std::string("1.5,-2,0\r3,4e-3,1\r"),
        std::string("\xEF\xBB\xBF") + plain, std::string("\"1.5\",\"-2\",\"0\"\n3, 4e-3 ,+1\n\n\n"),
        std::string("x1,x2,label\n") + plain, std::string("\xEF\xBB\xBF\"x1\",\"x 2\",\"y\"\r\n1.5,-2,0\r\n3,4e-3,1\r\n")}) {
    INFO(printable(text));
    const CsvTable t = parse_csv_table(text, "t.csv");
    CHECK(t.values == expected_2x3());
  }
}

TEST_CASE("csv: a header row is detected and its names kept", "[io]") {
  const CsvTable t = parse_csv_table("\xEF\xBB\xBF\"sepal length\",width,label\r\n5.1,3.5,0\r\n4.9,3,1\r\n", "iris.csv");
  CHECK(t.header == std::vector<std::string>{"sepal length", "width", "label"});
  CHECK(t.values.shape == Shape{2, 3});
  // Without one, nothing is taken as a header.
  CHECK(parse_csv_table("1,2\n3,4\n", "n.csv").header.empty());
  // A first line that is not numbers over a second that is not either is not
  // a header but an error on line 1.
  CHECK_INPUT_ERROR(parse_csv_table("a,b\nc,d\n", "x.csv"), "x.csv:1: field 1 'a' is not a number");
  // A header with a different count of fields is not one.
  CHECK_INPUT_ERROR(parse_csv_table("a,b,c\n1,2\n", "x.csv"), "x.csv:1:");
}

TEST_CASE("csv: errors name the line of the file, header counted", "[io]") {
  CHECK_INPUT_ERROR(parse_csv_table("x,y\n1,2\n3\n", "r.csv"), "r.csv:3: 1 fields, but line 2 has 2");
  CHECK_INPUT_ERROR(parse_csv_table("x,y\n1,2\n3,zz\n", "r.csv"), "r.csv:3: field 2 'zz' is not a number");
  CHECK_INPUT_ERROR(parse_csv_table("1,2\n\n3,4\n", "r.csv"), "r.csv:2: empty line");
  CHECK_INPUT_ERROR(parse_csv_table("", "e.csv"), "e.csv: the file is empty");
  CHECK_INPUT_ERROR(parse_csv_table("\xEF\xBB\xBF\r\n\r\n", "e.csv"), "e.csv: the file is empty");
  CHECK_INPUT_ERROR(parse_csv_table(std::string("\xFF\xFE" "1\0,\0" "2\0", 8), "w.csv"), "w.csv: the file is UTF-16");
}

TEST_CASE("csv: bytes quoted in a message are escaped, a NUL does not cut it", "[io]") {
  const std::string text("1,2\n3,4\0x\x1b[2J\n", 15);
  try {
    parse_csv_table(text, "nul.csv");
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what == "nul.csv:2: field 2 '4\\0x\\x1b[2J' holds a NUL byte; a CSV file is text (is this a binary file?)");
    for (unsigned char c : what) CHECK(c >= 0x20);
  }
}

TEST_CASE("csv: a NUL byte is refused on every line, the header's too", "[io]") {
  using namespace std::string_literals;
  CHECK_INPUT_ERROR(parse_csv_table("x1,x\0,y\n1,2,3\n"s, "h.csv"), "h.csv:1: field 2 'x\\0' holds a NUL byte");
  CHECK_INPUT_ERROR(parse_csv_table("1,2\n3,4\n5,\0\n"s, "d.csv"), "d.csv:3: field 2 '\\0' holds a NUL byte");
  // A NUL after the last line (trailing garbage) is not a blank line.
  CHECK_INPUT_ERROR(parse_csv_table("1,2\n3,4\n\0\n"s, "t.csv"), "t.csv:3: field 1");
}

// Issue 19: a first data line with one garbled field used to be dropped as a
// header, so n samples gave n - 1 predictions without a word.
TEST_CASE("csv: a damaged first line is an error, never taken as a header", "[io]") {
  const std::string data = "1,2,0\n3,4,1\n";
  // One field of the first data line replaced by a letter: names and numbers mixed.
  CHECK_INPUT_ERROR(parse_csv_table("1,a,0\n" + data, "l.csv"),
                    "l.csv:1: field 1 '1' is a number but field 2 'a' is not");
  // Two byte-order marks: the second is inside field 1.
  CHECK_INPUT_ERROR(parse_csv_table("\xEF\xBB\xBF\xEF\xBB\xBFx,y,z\n" + data, "b.csv"),
                    "b.csv:1: field 1 '\xEF\xBB\xBFx' holds a byte-order mark");
  // A control byte (an escape sequence) among names.
  CHECK_INPUT_ERROR(parse_csv_table("x,\x1b[31my,z\n" + data, "e.csv"), "e.csv:1: field 2 '\\x1b[31my' holds the control byte 0x1b");
  CHECK_INPUT_ERROR(parse_csv_table("x,y\x07,z\n" + data, "e.csv"), "control byte 0x07");
  // All names is a header still, an empty name (pandas' index column) too.
  CHECK(parse_csv_table("x,y,label\n" + data, "h.csv").header == std::vector<std::string>{"x", "y", "label"});
  CHECK(parse_csv_table(",y,label\n" + data, "h.csv").header == std::vector<std::string>{"", "y", "label"});
  CHECK(parse_csv_table(",y,label\n" + data, "h.csv").values.shape == Shape{2, 3});
}

TEST_CASE("csv part: the same first-line rules when a process reads its part", "[io]") {
  test::TempDir dir;
  test::put_text(dir / "l.csv", "1,a,0\n1,2,0\n3,4,1\n");
  CHECK_INPUT_ERROR(read_csv_part(dir / "l.csv", 0, 2), "l.csv:1: field 1 '1' is a number but field 2 'a' is not");
  test::put_text(dir / "n.csv", std::string("1,2,0\n3,4,1\n5,\0,1\n", 18));
  CHECK_INPUT_ERROR(read_csv_part(dir / "n.csv", 0, 2), "n.csv:3: field 2 '\\0' holds a NUL byte");
}

TEST_CASE("csv data: the header is reported, a suspicious last column gets a hint", "[io]") {
  test::TempDir dir;
  test::put_text(dir / "h.csv", "x1,x2,label\r\n0.5,1,1\r\n-0.5,2,0\r\n");
  const Dataset d = load_dataset(dir / "h.csv");
  CHECK(d.X.shape == Shape{2, 2});
  CHECK(d.Y.values == std::vector<double>{1, 0});
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0] == (dir / "h.csv").string() + ": line 1 is a header (x1, x2, label); skipped");
  // A last column of fractions is a feature, not labels.
  test::put_text(dir / "f.csv", "0.5,1,0.25\n-0.5,2,0.75\n");
  CHECK_INPUT_ERROR(load_dataset(dir / "f.csv"), "sample index 0 has 0.25 there, not a class number");
  CHECK_INPUT_ERROR(load_dataset(dir / "f.csv"), "--labels FILE");
  // Integers that are not 0/1: the binary check names the column as the cause.
  test::put_text(dir / "i.csv", "0.5,1,7\n-0.5,2,0\n");
  CHECK_INPUT_ERROR(check_binary_labels(load_dataset(dir / "i.csv")), "label of sample index 0 is 7, expected 0 or 1");
  CHECK_INPUT_ERROR(check_binary_labels(load_dataset(dir / "i.csv")), "the last column is taken as the labels");
  // With a label file the hint does not apply, and its header is reported.
  test::put_text(dir / "y.csv", "label\n7\n0\n");
  LoadOptions o;
  o.labels = dir / "y.csv";
  const Dataset with = load_dataset(dir / "f.csv", o);
  CHECK(with.X.shape == Shape{3, 2});
  CHECK(with.notes.size() == 1);
  try {
    check_binary_labels(with);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("last column") == std::string::npos);
  }
}
