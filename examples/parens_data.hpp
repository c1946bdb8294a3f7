// The data of benchmark 2 (docs/benchmarks.md#parens): balanced bracket strings made by a seeded
// random walk, the task's fixed vocabulary ('(' = 0, ')' = 1, BOS = 2) and the validity check of a
// sample.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gflow/io/text_data.hpp>
#include <gflow/random.hpp>

namespace parens {

inline constexpr int min_pairs = 10, max_pairs = 25;   // a string has 2·pairs symbols, 20..50

// One string, exactly as docs/benchmarks.md#parens describes the walk: pick `pairs` uniformly in
// [10, 25] and emit 2·pairs symbols, tracking the open depth and the symbols still to emit (`remaining`, counted
// before the symbol). An open is allowed while depth < pairs and remaining - depth > depth; a
// close while depth > 0; when both are allowed, each has probability 1/2 (one draw from `gen`
// only then). The result is always balanced.
inline std::string random_balanced(gflow::rng& gen) {
    const int pairs = min_pairs + int(gen.below(std::uint64_t(max_pairs - min_pairs + 1)));
    std::string s;
    s.reserve(std::size_t(2 * pairs));
    int depth = 0;
    for (int i = 0; i < 2 * pairs; ++i) {
        const int remaining = 2 * pairs - i;
        const bool can_open = depth < pairs && remaining - depth > depth;
        const bool can_close = depth > 0;
        const bool open = can_open && (!can_close || gen.uniform() < 0.5);
        s += open ? '(' : ')';
        depth += open ? 1 : -1;
    }
    return s;
}

// `count` strings from the walk seeded with `seed`: the same seed gives the same strings.
inline std::vector<std::string> generate(std::size_t count, std::uint64_t seed) {
    gflow::rng gen(seed);
    std::vector<std::string> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) out.push_back(random_balanced(gen));
    return out;
}

// A sample counts as valid when it is non-empty and balanced: no prefix closes more brackets
// than it opened, and the whole string closes all it opened. Any other symbol is invalid.
inline bool valid(std::string_view s) {
    if (s.empty()) return false;
    long depth = 0;
    for (char c : s) {
        if (c == '(') ++depth;
        else if (c == ')' && depth > 0) --depth;
        else return false;
    }
    return depth == 0;
}

// The fixed vocabulary: '(' = 0, ')' = 1, then BOS = 2 (not sorted from the data: a file of only
// '(' still means the same tokens).
inline gflow::io::vocabulary vocabulary() { return gflow::io::vocabulary::from_symbols({U'(', U')'}); }

}  // namespace parens
