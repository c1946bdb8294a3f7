// gflow/core/memory.hpp: what a term keeps for backward, and what it needs only within one call.
//
// A term's activation memory has two parts (docs/design.md, "Memory plan"):
//   kept      written by forward, read by backward: its parent lays the kept blocks of its
//             children one after the other, so each lives for the whole step;
//   scratch   used within one call of forward, backward or decode and dead when it returns (the
//             gradients of a chain's intermediates, a mixer's inner gradients, one pair's ∂p).
// A composite's scratch is its own plus the largest of its children's, not their sum: the children
// run one after another, each in the same space above the parent's own scratch. So scratch is
// reused between terms, and a model's activation memory is Σ kept + the deepest nesting of scratch.
//
// A term says so with
//   static constexpr std::size_t kept_size, scratch_size;   act_size = kept_size + scratch_size
// (a term that declares neither keeps all of act_size), finds its scratch with scratch_area(p, a,
// kept_size) and gives its children theirs with inner(p, scratch + own). Leaf terms list their
// buffers by name and shape (memory_plan below); offsets are derived from the list.
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <gflow/core/dims.hpp>

namespace gflow {

enum class lifetime { kept, scratch };

// One buffer of a term: its name and shape in the formulas' letters, and its size in scalars.
struct activation_buffer {
    std::string_view name;    // "inv_rms"
    std::string_view shape;   // "[B·T]"
    std::size_t size;
    lifetime life = lifetime::kept;
};
constexpr activation_buffer kept_buffer(std::string_view name, std::string_view shape, std::size_t size) {
    return {name, shape, size, lifetime::kept};
}
constexpr activation_buffer scratch_buffer(std::string_view name, std::string_view shape, std::size_t size) {
    return {name, shape, size, lifetime::scratch};
}

// A term's buffers, in order: the kept ones from the start of its block, the scratch ones from the
// start of its scratch area.
template <std::size_t N>
struct memory_plan {
    std::array<activation_buffer, N> buffers;

    constexpr std::size_t size(lifetime life) const {
        std::size_t total = 0;
        for (const auto& b : buffers) total += b.life == life ? b.size : 0;
        return total;
    }
    constexpr std::size_t kept_size() const { return size(lifetime::kept); }
    constexpr std::size_t scratch_size() const { return size(lifetime::scratch); }
    constexpr std::size_t offset(std::string_view name) const {
        std::size_t at[2] = {0, 0};
        for (const auto& b : buffers) {
            if (b.name == name) return at[int(b.life)];
            at[int(b.life)] += b.size;
        }
        throw "gflow::memory_plan: no buffer of that name";   // a compile error where constant
    }
    // "inv_rms [B·T]; scratch: ∂p [C(r,2)]", for summaries and the model pages
    std::string describe() const {
        std::string kept_part, scratch_part;
        for (const auto& b : buffers) {
            if (b.size == 0) continue;   // a buffer this shape does without
            std::string& s = b.life == lifetime::kept ? kept_part : scratch_part;
            s += fmt::format("{}{} {}", s.empty() ? "" : ", ", b.name, b.shape);
        }
        if (scratch_part.empty()) return kept_part;
        return kept_part.empty() ? "scratch: " + scratch_part : kept_part + "; scratch: " + scratch_part;
    }
};
template <class... B>
memory_plan(B...) -> memory_plan<sizeof...(B)>;

// What a bound term keeps and what it needs only within a call (a term that says nothing keeps
// all of its act_size).
template <class I>
constexpr std::size_t kept_of() {
    if constexpr (requires { I::kept_size; }) return I::kept_size;
    else return I::act_size;
}
template <class I>
constexpr std::size_t scratch_of() {
    if constexpr (requires { I::scratch_size; }) return I::scratch_size;
    else return 0;
}

// Where a term's scratch lies: where its parent put it, or, for a term called on its own (a test,
// the network's outermost term), just after its kept block, inside its act_size.
template <class S>
inline S* scratch_area(const pass& p, S* a, std::size_t kept_size) {
    return p.scratch ? static_cast<S*>(p.scratch) : a + kept_size;
}
// The pass a child runs under: the same rows, its scratch at `scratch`.
template <class S>
inline pass inner(const pass& p, S* scratch) {
    pass q = p;
    q.scratch = scratch;
    return q;
}

}  // namespace gflow
