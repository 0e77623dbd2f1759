// Exceptions thrown by dagrad. Every message names what is at fault: a node's
// name and the shapes involved, or a file and the line or byte.
//
// The CLI maps all of them to exit code 2 (usage or input error); a failed
// check (gradcheck) is exit code 1 and is not an exception.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace dagrad {

// `text` made safe to print on one line: control bytes (a newline, a NUL, an
// escape sequence) and bytes that are not UTF-8 become \n, \0, \x1b...; valid
// UTF-8 stays as it is. Messages quote bytes from files and argv, and a NUL
// would cut what() short, a raw escape byte would drive the terminal.
std::string printable(std::string_view text);

// At most `max` bytes of user text (a value from argv, a field of a file)
// for a message, cut at a character boundary and ended with "..." when
// longer: a 300-digit number or a 1 MB line is never quoted back whole.
// Every message that quotes a user's value goes through it; the message is
// made printable by Error itself.
std::string excerpt(std::string_view text, std::size_t max = 24);

// A library's exception text made fit for a user: nlohmann::json's tags
// ("[json.exception.out_of_range.403] key 'version' not found") become
// "key 'version' is missing". The caller names the file; the CLI's error
// line passes every message through it as a last safety net.
std::string without_library_tags(std::string_view text);

struct Error : std::runtime_error {
  explicit Error(std::string_view message) : std::runtime_error(printable(message)) {}
  explicit Error(const std::string& message) : Error(std::string_view(message)) {}
  explicit Error(const char* message) : Error(std::string_view(message)) {}
};

// Operand shapes that do not fit, caught while the graph is built.
struct ShapeError : Error {
  using Error::Error;
};

// A malformed graph: unknown node, cycle, dangling edge, unknown op.
struct GraphError : Error {
  using Error::Error;
};

// Bad data or files: wrong feed, truncated file, NaN in data, bad labels.
struct InputError : Error {
  using Error::Error;
};

// A value went NaN or Inf while running with numeric checks on.
struct NumericError : Error {
  using Error::Error;
};

}  // namespace dagrad
