// The page's files (studio/assets/), compiled into the binary at build time
// by cmake/embed_assets.cmake: the server looks names up here and nowhere
// else, so no request path ever reaches the file system.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace dagrad::studio {

struct EmbeddedAsset {
  const char* name;          // path under studio/assets/, e.g. "index.html", "katex/katex.min.css"
  const char* content_type;  // from the extension, e.g. "text/javascript; charset=utf-8"
  const unsigned char* data;
  std::size_t size;

  std::string_view bytes() const { return {reinterpret_cast<const char*>(data), size}; }
};

// Every embedded file (generated source).
std::span<const EmbeddedAsset> embedded_assets();

// The asset named exactly `name` ("index.html"), or nullptr. Names are
// compared byte for byte: "../x", "a//b" or "%2e" match nothing.
const EmbeddedAsset* find_asset(std::string_view name);

}  // namespace dagrad::studio
