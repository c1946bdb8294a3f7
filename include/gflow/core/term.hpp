// gflow/core/term.hpp: what a term is.
//
// A term is an empty, inert type (syntax). Its meaning lives in its nested template
//     template <dims C, int InWidth> struct impl;
// which binds the term to the model's static sizes and to the width of its input, and provides
// the passes over the model's type (see docs/design.md):
//
//   static constexpr int in_width, out_width;          shapes (per position)
//   static constexpr std::size_t param_size;           parameters, in scalars
//   static constexpr std::size_t act_size;             activation memory per sequence (block size),
//                                                      saved values and internal gradients
//   static constexpr std::size_t state_size;           memory kept between generated tokens
//   static void for_each_param(F&& f, std::size_t offset, const std::string& prefix);
//   static void summarize(std::vector<summary_row>&, int depth);
//   template <class S> static void forward (const pass&, const S* w, S* a, const S* x, S* y);
//   template <class S> static void backward(const pass&, const S* w, S* dw, S* a,
//                                           const S* x, const S* y, const S* dy, S* dx);
//   template <class S> static void decode  (const pass&, const S* w, S* a, S* state,
//                                           const S* x, S* y);          one position, pass.n == 1
//   static constexpr flop_count flops(long length);    optional: operations over one sequence
//
// Buffers are row-major [n][width]. `w`/`dw` point at the term's own parameter block,
// `a` at its own activation block. Backward accumulates into dw and dx (see kernels.hpp).
#pragma once
#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <gflow/core/dims.hpp>

namespace gflow {

struct term_base {};

// Floating-point operations of a term over one sequence of `length` positions, forward and
// backward (the roofline line of the benchmarks: operations per step over step time against the
// machine's peak). What is counted is the products, 2 operations per multiply-add: the weight
// products (forward 2·In·Out a position; backward twice that, dx and dW), attention's scores
// and weighted sums, the Plücker coordinates. Elementwise maps, norms, exp and the loss are not:
// the convention of model-FLOPs utilisation (Chowdhery et al., PaLM, 2022), so that the figure
// compares with other libraries' and stays below the peak. A term that declares no
// `static constexpr flop_count flops(long length)` counts as none (flops_of).
struct flop_count {
    double forward = 0, backward = 0;
    constexpr double total() const { return forward + backward; }
    constexpr flop_count operator+(const flop_count& o) const { return {forward + o.forward, backward + o.backward}; }
    constexpr flop_count operator*(double k) const { return {forward * k, backward * k}; }
};
// A product of `rows` positions through a weight matrix [Out][In]: forward y = W x, backward
// dx = Wᵀ dy and dW = dy xᵀ.
constexpr flop_count product_flops(long rows, long in, long out) {
    const double forward = 2.0 * double(rows) * double(in) * double(out);
    return {forward, 2 * forward};
}
template <class I>
constexpr flop_count flops_of(long length) {
    if constexpr (requires { I::flops(length); })
        return I::flops(length);
    else
        return {};
}

template <class T>
concept term = std::derived_from<T, term_base> && std::is_empty_v<T>;

// A term whose implementation takes a batch as B·T rows itself: the position-wise terms and the
// composites say so with `static constexpr bool handles_batches = true;`. Any other term is run
// once per sequence of a batch (core/batch.hpp) and needs no code for batches.
template <class T>
concept handles_batches = requires { requires T::handles_batches; };

template <class I, dims C> struct per_sequence;

namespace detail {
// The whole term contract, checked where a term is bound: one static_assert a part, each naming
// the part that is missing in the DSL's words (the compiler's "required from" line above it
// names the term). A term that lacks a part is refused here, not deep inside a model's
// forward or backward.
template <class I, int W>
consteval bool meets_term_contract() {
    static_assert(requires { I::in_width; I::out_width; },
                  "gflow: a term's impl<C, W> declares its widths: static constexpr int in_width, out_width");
    static_assert(requires { requires I::in_width == W; },
                  "gflow: a term's impl<C, W> takes the width it is bound to: in_width == W "
                  "(0 for a term that reads tokens)");
    static_assert(requires { { I::param_size } -> std::convertible_to<std::size_t>; },
                  "gflow: a term's impl<C, W> declares static constexpr std::size_t param_size (0 if none)");
    static_assert(requires { { I::act_size } -> std::convertible_to<std::size_t>; },
                  "gflow: a term's impl<C, W> declares static constexpr std::size_t act_size (its activation "
                  "memory for a sequence, 0 if none)");
    static_assert(requires { { I::state_size } -> std::convertible_to<std::size_t>; },
                  "gflow: a term's impl<C, W> declares static constexpr std::size_t state_size (what decoding "
                  "keeps between tokens, 0 if nothing; position_wise<impl> declares it)");
    static_assert(requires(const pass& p, const double* w, double* a, const double* x, double* y) {
                      I::forward(p, w, a, x, y);
                  },
                  "gflow: a term's impl<C, W> has forward(const pass&, const S* w, S* a, const S* x, S* y)");
    static_assert(requires(const pass& p, const double* w, double* dw, double* a, const double* x,
                           const double* dy, double* dx) { I::backward(p, w, dw, a, x, x, dy, dx); },
                  "gflow: a term's impl<C, W> has backward(const pass&, const S* w, S* dw, S* a, const S* x, "
                  "const S* y, const S* dy, S* dx), accumulating into dw and dx");
    static_assert(requires(const pass& p, const double* w, double* a, double* state, const double* x,
                           double* y) { I::decode(p, w, a, state, x, y); },
                  "gflow: a term's impl<C, W> has decode(const pass&, const S* w, S* a, S* state, const S* x, "
                  "S* y) for one position (position_wise<impl> gives it to position-wise terms)");
    static_assert(requires(std::vector<summary_row>& rows) {
                      I::for_each_param([](const param_desc&) {}, std::size_t(0), std::string());
                      I::summarize(rows, 0);
                  },
                  "gflow: a term's impl<C, W> has for_each_param(f, offset, prefix) and summarize(rows, depth) "
                  "(no_params gives the first to a term without parameters)");
    return true;
}

template <term T, dims C, int W>
struct binder {
    using type = typename T::template impl<C, W>;
    static_assert(meets_term_contract<type, W>());
};
template <term T, dims C, int W>
    requires(C.batch > 1 && !handles_batches<T>)
struct binder<T, C, W> {
    using one = typename T::template impl<dims{C.vocab, C.block, C.width, 1}, W>;
    static_assert(meets_term_contract<one, W>());
    using type = per_sequence<one, C>;
};
}  // namespace detail

// The implementation of term T at sizes C with input width W.
template <term T, dims C, int W>
using bind = typename detail::binder<T, C, W>::type;

// The contract of a bound term (checked where a model is instantiated).
template <class I>
concept bound_term = requires {
    { I::in_width } -> std::convertible_to<int>;
    { I::out_width } -> std::convertible_to<int>;
    { I::param_size } -> std::convertible_to<std::size_t>;
    { I::act_size } -> std::convertible_to<std::size_t>;
    { I::state_size } -> std::convertible_to<std::size_t>;
};

// A mixer: a term that maps the width to itself and mixes positions causally, and says what it
// keeps between generated tokens (state_size, decode). grassmann and attention are two; a user's
// own mixer that meets this concept drops into the same model.
template <class M, dims C, int W>
concept mixer = term<M> && bound_term<bind<M, C, W>> && (bind<M, C, W>::in_width == W) &&
                (bind<M, C, W>::out_width == W) &&
                requires(const pass& p, const double* w, double* a, double* state, const double* x,
                         double* y, double* dw, const double* dy, double* dx) {
                    bind<M, C, W>::forward(p, w, a, x, y);
                    bind<M, C, W>::backward(p, w, dw, a, x, x, dy, dx);
                    bind<M, C, W>::decode(p, w, a, state, x, y);
                };

// Terms whose output at a position depends only on that position's input: decoding one token
// is the forward pass over one row, with no state.
template <class Impl>
struct position_wise {
    static constexpr std::size_t state_size = 0;
    template <class S>
    static void decode(const pass& p, const S* w, S* a, S* /*state*/, const S* x, S* y) {
        Impl::forward(p, w, a, x, y);
    }
};

// A term with no parameters names none.
struct no_params {
    static constexpr std::size_t param_size = 0;
    template <class F>
    static void for_each_param(F&&, std::size_t, const std::string&) {}
};

}  // namespace gflow

#include <gflow/core/batch.hpp>   // per_sequence, which bind names
