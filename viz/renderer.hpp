// Rendering through an external program (Graphviz's dot for graphs,
// rsvg-convert for plots): the one place viz/ finds a program on PATH and
// reads a file's extension.
#pragma once

#include <string>
#include <string_view>

namespace dagrad::viz {

// The lower-cased extension of `path` without its dot ("png"), or "" when
// the file name has none.
std::string lower_extension(const std::string& path);

// The path of the executable `program` in the first PATH folder that holds
// one (PATH unset: /usr/local/bin, /usr/bin, /bin), or "" when none does.
std::string find_on_path(std::string_view program);

}  // namespace dagrad::viz
