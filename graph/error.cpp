#include "dagrad/graph/error.hpp"

#include <fmt/format.h>

namespace dagrad {

namespace {

// Length of the well-formed UTF-8 sequence at the start of `s` (2 to 4), or 0
// when it is not one: a stray continuation byte, a truncated sequence, an
// overlong form, a surrogate or a code point past U+10FFFF.
std::size_t utf8_length(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  const std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i)
    if ((b(i) & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong 3-byte form
  if (c == 0xED && b(1) >= 0xA0) return 0;  // UTF-16 surrogate
  if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong 4-byte form
  if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
  return n;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x80 && utf8_length(text.substr(i)) > 0) {
      const std::size_t n = utf8_length(text.substr(i));
      out.append(text.substr(i, n));
      i += n;
    } else {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\0': out += "\\0"; break;
        default: out += fmt::format("\\x{:02x}", c);
      }
      ++i;
    }
  }
  return out;
}

std::string excerpt(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t cut = max;
  // Back off over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

namespace {

// The library's own text: each quoted stretch cut to an excerpt (it quotes
// whole tokens: "last read: '<a 400-digit number>'"), and its wording for a
// missing key as a reader of the file says it.
std::string reworded(std::string text) {
  for (std::size_t open = text.find('\''); open != std::string::npos;) {
    const std::size_t close = text.find('\'', open + 1);
    if (close == std::string::npos) break;
    const std::string cut = excerpt(text.substr(open + 1, close - open - 1));
    text.replace(open + 1, close - open - 1, cut);
    open = text.find('\'', open + cut.size() + 2);
  }
  const std::size_t key = text.find("key '");
  const std::size_t quote = key == std::string::npos ? key : text.find('\'', key + 5);
  if (quote != std::string::npos && text.compare(quote + 1, 10, " not found") == 0)
    text.replace(quote + 1, 10, " is missing");
  return text;
}

}  // namespace

std::string without_library_tags(std::string_view text) {
  static constexpr std::string_view tag = "[json.exception.";
  const std::size_t first = text.find(tag);
  if (first == std::string_view::npos) return std::string(text);
  std::string out(text.substr(0, first)), library;
  for (std::string_view rest = text.substr(first);;) {
    const std::size_t at = rest.find(tag);
    const std::size_t close = at == std::string_view::npos ? at : rest.find("] ", at);
    if (close == std::string_view::npos) {
      library.append(rest);
      break;
    }
    library.append(rest.substr(0, at));
    rest.remove_prefix(close + 2);
  }
  return out + reworded(std::move(library));
}

}  // namespace dagrad
