#pragma once
// The one exception type for bad user input (data files, checkpoints, flags).
// Programs catch it at the top, print what() and exit with status 2.

#include <stdexcept>

namespace gflow {

// what() is a single line naming the input (file path, line number, tensor name) and what is
// wrong with it, e.g. "names.txt:17: invalid UTF-8 byte 0xff at column 3".
struct input_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace gflow
