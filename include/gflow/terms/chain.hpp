// gflow/terms/chain.hpp: a >> b >> c, terms applied one after another. The chain is flat
// (a >> b >> c is chain_t<a, b, c>, not nested), so a long model stays one level deep.
//
// Memory plan of a chain of K terms (core/memory.hpp), inside its activation block:
//   kept:    [kept block of term 0] ... [kept block of term K-1] [values of the K-1 intermediates]
//   scratch: [gradients of the K-1 intermediates] [the terms' scratch: the largest of theirs]
// each intermediate [B·T][width]. Backward runs the terms in reverse; each intermediate gradient is
// zeroed once, just before its only consumer accumulates into it, and is dead when the chain's
// backward returns: scratch, which the chain's siblings reuse.
//
// A chain is bound with each maximal run of adjacent elementwise terms fused into one term
// (fused_elementwise_t, terms/elementwise.hpp): relu >> gelu is one loop each way, and the run's
// intermediates never appear in the plan above.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <tuple>

#include <boost/hana/for_each.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/range.hpp>

#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/term.hpp>
#include <gflow/terms/elementwise.hpp>

namespace gflow {

template <class... Impls> struct impl_list {};
template <class... Terms> struct term_list {};

namespace detail {
namespace hana = boost::hana;

// Fusing the runs of adjacent elementwise terms: a left fold over the chain's terms (a fold
// expression, so no recursion) whose state is the terms decided so far and the run of
// elementwise terms read since the last other term. A run of one stays as it is.
template <class T> struct term_tag {};
template <class Done, class... Run> struct fusing {};

template <class... D> term_list<D...> close_run(term_list<D...>);
template <class... D, class M> term_list<D..., M> close_run(term_list<D...>, term_tag<M>);
template <class... D, class M1, class M2, class... Ms>
term_list<D..., terms::fused_elementwise_t<M1, M2, Ms...>> close_run(term_list<D...>, term_tag<M1>, term_tag<M2>,
                                                                      term_tag<Ms>...);
template <class... D, class T> term_list<D..., T> append(term_list<D...>, term_tag<T>);

template <class... D, class... R, class T>
auto operator+(fusing<term_list<D...>, R...>, term_tag<T>) {
    if constexpr (terms::is_elementwise_term<T>)
        return fusing<term_list<D...>, R..., T>{};
    else
        return fusing<decltype(append(close_run(term_list<D...>{}, term_tag<R>{}...), term_tag<T>{}))>{};
}
template <class... D, class... R>
auto finish(fusing<term_list<D...>, R...>) -> decltype(close_run(term_list<D...>{}, term_tag<R>{}...));

template <class... Ts>
using fuse_runs = decltype(finish((fusing<term_list<>>{} + ... + term_tag<Ts>{})));

// Bind each term of a chain, feeding each one its predecessor's output width.
template <dims C, int W, class... Ts> struct bind_chain { using type = impl_list<>; };
template <dims C, int W, class T, class... Rest>
struct bind_chain<C, W, T, Rest...> {
    using head = bind<T, C, W>;
    template <class... I> static auto prepend(impl_list<I...>) -> impl_list<head, I...>;
    using type = decltype(prepend(typename bind_chain<C, head::out_width, Rest...>::type{}));
};
template <dims C, int W, class List> struct bind_terms;
template <dims C, int W, class... Ts>
struct bind_terms<C, W, term_list<Ts...>> : bind_chain<C, W, Ts...> {};

template <std::size_t K>
constexpr std::array<std::size_t, K + 1> prefix_sums(const std::array<std::size_t, K>& sizes,
                                                     std::size_t start = 0) {
    std::array<std::size_t, K + 1> out{};
    out[0] = start;
    for (std::size_t k = 0; k < K; ++k) out[k + 1] = out[k] + sizes[k];
    return out;
}
}  // namespace detail

// The implementation of a chain of bound terms (also used by composite terms such as ffn).
template <dims C, class List> struct chain_impl;
template <dims C, class... I>
struct chain_impl<C, impl_list<I...>> {
    static constexpr std::size_t K = sizeof...(I);
    static_assert(K >= 1);
    template <std::size_t k> using at = std::tuple_element_t<k, std::tuple<I...>>;

    static constexpr std::array<int, K> out_widths{I::out_width...};
    static constexpr int in_width = at<0>::in_width;
    static constexpr int out_width = at<K - 1>::out_width;

    static constexpr auto param_offset = detail::prefix_sums<K>({I::param_size...});
    static constexpr auto act_offset = detail::prefix_sums<K>({kept_of<I>()...});   // the terms' kept blocks
    static constexpr auto state_offset = detail::prefix_sums<K>({I::state_size...});
    static constexpr auto mid_sizes = [] {   // intermediate k = output of term k, k < K-1: [B·T][width]
        std::array<std::size_t, K> sizes{};
        for (std::size_t k = 0; k + 1 < K; ++k) sizes[k] = std::size_t(C.rows()) * out_widths[k];
        return sizes;
    }();
    static constexpr auto mid_value_offset = detail::prefix_sums<K>(mid_sizes, act_offset[K]);   // kept
    static constexpr auto mid_grad_offset = detail::prefix_sums<K>(mid_sizes);                   // in the scratch

    static constexpr std::size_t param_size = param_offset[K];
    static constexpr std::size_t state_size = state_offset[K];
    // Kept: the terms' blocks and the intermediates. Scratch: the intermediates' gradients (backward
    // only), then the space the terms share for theirs, the largest of them.
    static constexpr std::size_t kept_size = mid_value_offset[K];
    static constexpr std::size_t own_scratch = mid_grad_offset[K];
    static constexpr std::size_t scratch_size = own_scratch + std::max({std::size_t(0), scratch_of<I>()...});
    static constexpr std::size_t act_size = kept_size + scratch_size;
    static constexpr flop_count flops(long length) { return (flops_of<I>(length) + ... + flop_count{}); }

    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        for_each_index([&]<std::size_t k>() { at<k>::for_each_param(f, offset + param_offset[k], prefix); });
    }
    static void summarize(std::vector<summary_row>& rows, int depth) {
        for_each_index([&]<std::size_t k>() { at<k>::summarize(rows, depth); });
    }

    template <class S>
    static void forward(const pass& p, const S* w, S* a, const S* x, S* y) {
        const pass q = inner(p, scratch_area(p, a, kept_size) + own_scratch);
        for_each_index([&]<std::size_t k>() {
            at<k>::forward(q, w + param_offset[k], a + act_offset[k], input<k>(a, x), output<k>(a, y));
        });
    }

    template <class S>
    static void backward(const pass& p, const S* w, S* dw, S* a, const S* x, const S* y,
                         const S* dy, S* dx) {
        S* grads = scratch_area(p, a, kept_size);   // [the intermediates' gradients][the terms' scratch]
        const pass q = inner(p, grads + own_scratch);
        for_each_index_reversed([&]<std::size_t k>() {
            const S* d_out = (k + 1 == K) ? dy : grads + mid_grad_offset[k];
            S* d_in = dx;
            if constexpr (k > 0) {
                d_in = grads + mid_grad_offset[k - 1];
                kernels::zero(d_in, p.n * at<k>::in_width);
            }
            at<k>::backward(q, w + param_offset[k], dw + param_offset[k], a + act_offset[k],
                            input<k>(a, x), output<k>(a, y), d_out, d_in);
        });
    }

    template <class S>
    static void decode(const pass& p, const S* w, S* a, S* state, const S* x, S* y) {
        const pass q = inner(p, scratch_area(p, a, kept_size) + own_scratch);
        for_each_index([&]<std::size_t k>() {
            at<k>::decode(q, w + param_offset[k], a + act_offset[k], state + state_offset[k],
                          input<k>(a, x), output<k>(a, y));
        });
    }

private:
    template <std::size_t k, class S>
    static const S* input(S* a, const S* x) {
        if constexpr (k == 0) return x; else return a + mid_value_offset[k - 1];
    }
    template <std::size_t k, class S, class Out>   // Out: S* in forward, const S* in backward
    static Out output(S* a, Out y) {
        if constexpr (k + 1 == K) return y; else return a + mid_value_offset[k];
    }

    template <class F>
    static void for_each_index(F&& f) {
        boost::hana::for_each(boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<K>),
                              [&](auto k) { f.template operator()<decltype(k)::value>(); });
    }
    template <class F>
    static void for_each_index_reversed(F&& f) {
        boost::hana::for_each(boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<K>),
                              [&](auto k) { f.template operator()<K - 1 - decltype(k)::value>(); });
    }
};

template <term... Ts>
struct chain_t : term_base {
    static constexpr bool handles_batches = true;   // a composite: passes a batch's rows on
    // The terms as bound: Ts with each run of two or more adjacent elementwise terms replaced by
    // one fused_elementwise_t of the run.
    using fused = detail::fuse_runs<Ts...>;
    template <dims C, int W>
    using impl = chain_impl<C, typename detail::bind_terms<C, W, fused>::type>;
};

namespace detail {
template <class T> struct as_chain { using type = chain_t<T>; };
template <class... Ts> struct as_chain<chain_t<Ts...>> { using type = chain_t<Ts...>; };
template <class... As, class... Bs>
chain_t<As..., Bs...> concat(chain_t<As...>, chain_t<Bs...>);
}  // namespace detail

// a >> b: apply a, then b. Found by argument-dependent lookup on any term.
template <term A, term B>
constexpr auto operator>>(A, B) {
    return decltype(detail::concat(typename detail::as_chain<A>::type{},
                                   typename detail::as_chain<B>::type{})){};
}

}  // namespace gflow
