// Exceptions thrown by dagrad. Every message names what is at fault: a node's
// name and the shapes involved, or a file and the line or byte.
//
// The CLI maps all of them to exit code 2 (usage or input error); a failed
// check (gradcheck) is exit code 1 and is not an exception.
#pragma once

#include <stdexcept>
#include <string>

namespace dagrad {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
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
