// dagrad's exceptions carry printable one-line messages: control bytes and
// bytes that are not UTF-8 are escaped, so a message quoting a file or an
// argument never drives the terminal, and a NUL never cuts what() short.
#include <catch2/catch.hpp>

#include <string>

#include "dagrad/graph/error.hpp"

using namespace dagrad;

TEST_CASE("printable escapes control bytes and invalid UTF-8, keeps valid UTF-8", "[graph]") {
  CHECK(printable("plain text, 1.5e-3") == "plain text, 1.5e-3");
  CHECK(printable(std::string("a\0b", 3)) == "a\\0b");
  CHECK(printable("line\nnext\r\tend") == "line\\nnext\\r\\tend");
  CHECK(printable("\x1b[31mred\x7f") == "\\x1b[31mred\\x7f");
  // Valid UTF-8 stays: "µ", "−" (U+2212), "😀" (4 bytes).
  CHECK(printable("\xc2\xb5 \xe2\x88\x92 \xf0\x9f\x98\x80") == "\xc2\xb5 \xe2\x88\x92 \xf0\x9f\x98\x80");
  // Invalid: a stray continuation byte, a truncated sequence, an overlong
  // '/', a UTF-16 surrogate, a code point past U+10FFFF.
  CHECK(printable("\x80") == "\\x80");
  CHECK(printable("\xe2\x88") == "\\xe2\\x88");
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  // Escaping twice changes nothing more: messages are wrapped and rethrown.
  const std::string once = printable(std::string("x\0\n\x1b\xff", 5));
  CHECK(printable(once) == once);
}

TEST_CASE("an error message with a NUL or a newline keeps all of it, on one line", "[graph]") {
  using namespace std::string_literals;
  const InputError e("data.csv:2: field 1 'a\0b\nc' is not a number"s);
  const std::string what = e.what();
  CHECK(what == "data.csv:2: field 1 'a\\0b\\nc' is not a number");
  CHECK(what.find('\n') == std::string::npos);
}

TEST_CASE("excerpt quotes at most a few characters of user text, never half a character", "[graph]") {
  CHECK(excerpt("0.5") == "0.5");
  const std::string digits(40, '7');
  CHECK(excerpt(digits) == std::string(24, '7') + "...");
  CHECK(excerpt(digits, 5) == "77777...");
  // "é" is two bytes: a cut inside it backs off to before it.
  CHECK(excerpt("abcd\xc3\xa9xyz", 5) == "abcd...");
  CHECK(excerpt("abcd\xc3\xa9xyz", 6) == "abcd\xc3\xa9...");
  CHECK(excerpt("", 3).empty());
}

TEST_CASE("without_library_tags turns nlohmann::json's text into a reader's words", "[graph]") {
  CHECK(without_library_tags("m.dagrad: model.json: malformed model file: [json.exception.out_of_range.403] key "
                             "'version' not found") ==
        "m.dagrad: model.json: malformed model file: key 'version' is missing");
  CHECK(without_library_tags("[json.exception.type_error.302] type must be string, but is number") ==
        "type must be string, but is number");
  CHECK(without_library_tags("g.json: field 'op' must be an op name") == "g.json: field 'op' must be an op name");
  // An unclosed tag is left as it is.
  CHECK(without_library_tags("[json.exception.x") == "[json.exception.x");
}
