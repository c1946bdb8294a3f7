// gflow/core/dims.hpp: the static sizes a model is built for, and the context of one pass.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gflow {

// The compile-time sizes of a model: vocabulary V, block size T (maximum positions), width d,
// and the most sequences B one step takes (a batch; 1 unless the model says batch<B>).
// A structural type, so it can be a template argument of every term's implementation.
struct dims {
    int vocab;
    int block;
    int width;
    int batch = 1;
    // Rows of a batch: B sequences of T positions, sequence b in rows [b T, b T + T).
    constexpr int rows() const { return block * batch; }
};

template <int V> struct vocab { static constexpr int value = V; };
template <int T> struct block { static constexpr int value = T; };
template <int D> struct width { static constexpr int value = D; };
template <int B> struct batch { static constexpr int value = B; };

// What one forward or backward pass needs beyond its buffers: the number of rows `n` (the only
// runtime size), the tokens of those rows, and the position of row 0 (0 in training; the
// current position when decoding one token at a time).
// A batch of `batch` > 1 sequences has n = batch · T rows, sequence b in rows [b T, b T + T) of
// which the first lengths[b] are real; position-wise terms run over all n rows, and a term that
// mixes positions runs once per sequence (core/batch.hpp), so sequences never mix.
struct pass {
    int n;
    const int* tokens;
    int first_position;
    int batch = 1;
    const int* lengths = nullptr;   // [batch], when batch > 1
    // Where the term's scratch lies (core/memory.hpp): set by a composite for its children; null
    // for a term called on its own, whose scratch then follows its kept block.
    void* scratch = nullptr;
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
    std::size_t activations;   // kept for backward, scalars per sequence of block size
    std::size_t scratch = 0;   // needed within a call only (a composite: its own and its children's deepest)
    std::string buffers = {};  // the term's own buffers by name and shape (core/memory.hpp)
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
