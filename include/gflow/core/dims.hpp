// gflow/core/dims.hpp: the static sizes a model is built for, and the context of one pass.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gflow {

// The compile-time sizes of a model: vocabulary V, block size T (maximum positions), width d.
// A structural type, so it can be a template argument of every term's implementation.
struct dims {
    int vocab;
    int block;
    int width;
};

template <int V> struct vocab { static constexpr int value = V; };
template <int T> struct block { static constexpr int value = T; };
template <int D> struct width { static constexpr int value = D; };

// What one forward or backward pass needs beyond its buffers: the number of positions `n`
// (the only runtime size), the tokens of those positions, and the position of row 0
// (0 in training; the current position when decoding one token at a time).
struct pass {
    int n;
    const int* tokens;
    int first_position;
};

// One parameter tensor as the structure of the model names it (docs/benchmarks.md#parameter-names).
struct param_desc {
    std::string name;
    int rows;
    int cols;
    std::size_t offset;   // into the parameter arena, in scalars
};

// One line of a model summary (the printing pass).
struct summary_row {
    int depth;
    std::string label;
    int in_width;
    int out_width;
    std::size_t params;
    std::size_t activations;   // scalars per sequence of block size
};

// A string usable as a template argument: the names of parameters live in the type.
template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&s)[N]) {
        for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
    }
    constexpr std::string_view view() const { return {chars, N - 1}; }
};

}  // namespace gflow
