// gflow/expr/graph.hpp: a term written as an expression of nodes, and the code generated from it.
//
// A mixer is written as a function of its input h (terms/expression.hpp):
//
//     auto z = expr::linear<"W_red", R>(h);
//     auto p = expr::window_mean(expr::unit(expr::plucker(z, expr::shift<Offsets>(z)))...);
//
// Each call returns an empty node whose type records the operation and its inputs' types, so the
// whole expression is one type: a graph known at compile time. A value used twice is the same
// type twice, so it is computed once (identical types are the same computation: same operation,
// same inputs, same parameter names). `graph` orders the nodes (each after its inputs, in the
// order the expression first reaches them, arguments left to right), lays out the parameters in
// that order and the activations node by node, and generates forward (nodes in order), backward
// (nodes in reverse, each accumulating into its inputs' gradients) and decoding.
//
// A node N provides (every size a compile-time constant):
//   using inputs = type_list<...>;  static constexpr int width;   the value per position
//   static constexpr int first_valid;    positions before it have no value of their own (a shift
//                                        by δ has none before δ); window_mean counts by it
//   static constexpr std::size_t param_size;  for_each_param(f, offset, prefix)
//   template <int T> static constexpr std::size_t keep;     saved by forward for backward [per sequence]
//   template <int T> static constexpr std::size_t scratch;  used within one call only (shared by all nodes)
//   template <int T> static constexpr std::size_t state;    kept between decoded tokens
//   forward <T>(pass, w, keep, scratch, out, std::array<const S*, K> in)
//   backward<T>(pass, w, dw, keep, scratch, out, dout, in, std::array<S*, K> din)   accumulates
//   decode  <T>(pass, w, keep, scratch, state, out, in)      a node with state; the others decode by
//                                                            running forward on one row
//   static std::string label();  static constexpr flop_count flops(long length) (optional)
//   a node with parameters also names them: param_names, and param_offsets within its block
// keep and scratch may come from a memory_plan of named buffers (core/memory.hpp), as the Plücker
// mean's and attend's do.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/term.hpp>

namespace gflow::expr {

template <class... Ts> struct type_list { static constexpr std::size_t size = sizeof...(Ts); };

struct node_base {};
template <class N>
concept node = std::derived_from<N, node_base> && std::is_empty_v<N>;

// The expression's input h: the term's input, width W.
template <int W>
struct input : node_base {
    using inputs = type_list<>;
    static constexpr int width = W, first_valid = 0;
};

// Defaults for a node without parameters, saved values, scratch or decoding state.
struct no_params_node {
    static constexpr std::size_t param_size = 0;
    template <class F> static void for_each_param(F&&, std::size_t, const std::string&) {}
};
struct stateless_node {
    template <int T> static constexpr std::size_t keep = 0;
    template <int T> static constexpr std::size_t scratch = 0;
    template <int T> static constexpr std::size_t state = 0;
};

namespace detail {
template <class T, class List> struct contains;
template <class T, class... Ts>
struct contains<T, type_list<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};

template <class List, class T> struct append;
template <class... Ts, class T> struct append<type_list<Ts...>, T> { using type = type_list<Ts..., T>; };

// Post-order, each node once: a node's inputs (left to right), then the node. The input h is not
// a node of the graph (it is the term's x).
template <class Seen, class N> struct visit;
template <class Seen, class Inputs> struct visit_all;
template <class Seen> struct visit_all<Seen, type_list<>> { using type = Seen; };
template <class Seen, class First, class... Rest>
struct visit_all<Seen, type_list<First, Rest...>> {
    using type = typename visit_all<typename visit<Seen, First>::type, type_list<Rest...>>::type;
};
template <class Seen, class N>
struct visit {
    using type = std::conditional_t<
        contains<N, Seen>::value || N::inputs::size == 0, Seen,
        typename append<typename visit_all<Seen, typename N::inputs>::type, N>::type>;
};

template <class T, class... Ts>
constexpr std::size_t index_of(type_list<Ts...>) {
    std::size_t i = 0;
    static_cast<void>(((std::is_same_v<T, Ts> ? false : (++i, true)) && ...));   // counts up to T's place
    return i;
}

template <class N>
constexpr flop_count node_flops(long length) {
    if constexpr (requires { N::flops(length); }) return N::flops(length);
    else return {};
}

// f.template operator()<k>() for k = 0 .. K-1, at compile time.
template <std::size_t K, class F>
constexpr void for_each_index(F&& f) {
    [&]<std::size_t... k>(std::index_sequence<k...>) { (f.template operator()<k>(), ...); }(std::make_index_sequence<K>{});
}
// The same, k = K-1 down to 0.
template <std::size_t K, class F>
constexpr void for_each_index_reversed(F&& f) {
    [&]<std::size_t... k>(std::index_sequence<k...>) {
        (f.template operator()<K - 1 - k>(), ...);
    }(std::make_index_sequence<K>{});
}

template <class N>
constexpr auto param_names_of() {
    if constexpr (requires { N::param_names; }) return N::param_names;
    else return std::array<std::string_view, 0>{};
}
template <class N>
constexpr int first_input_width() {
    return []<class... In>(type_list<In...>) { return std::max({0, In::width...}); }(typename N::inputs{});
}

template <class Names>
constexpr bool all_distinct(const Names& names) {
    for (std::size_t i = 0; i < names.size(); ++i)
        for (std::size_t j = i + 1; j < names.size(); ++j)
            if (names[i] == names[j]) return false;
    return true;
}
}  // namespace detail

// The generated term of an expression with root node Root over input width W, for sequences of
// T positions (its memory: layout_t below).
template <int T, int W, node Root>
struct graph {
    using nodes = typename detail::visit<type_list<>, Root>::type;
    static_assert(nodes::size >= 1, "gflow::expression: the expression returns its input unchanged; "
                                    "a term must compute something");
    static constexpr std::size_t K = nodes::size;

    template <std::size_t k, class L = nodes> struct at_t;
    template <std::size_t k, class... Ns> struct at_t<k, type_list<Ns...>> {
        using type = std::tuple_element_t<k, std::tuple<Ns...>>;
    };
    template <std::size_t k> using at = typename at_t<k>::type;

    template <class F>
    static constexpr void for_each_index(F&& f) { detail::for_each_index<K>(f); }

    // The last node that reads node k's value (K if none: the root). Node k's gradient is written
    // first by that node's backward and read last by node k's own: backward runs the nodes in
    // reverse, so the gradient lives from backward step last_reader[k] down to step k.
    static constexpr auto last_reader = [] {
        std::array<std::size_t, K> last{};
        detail::for_each_index<K>([&]<std::size_t j>() {
            []<class... In>(type_list<In...>, std::array<std::size_t, K>& l) {
                ((std::is_same_v<In, input<W>> ? void() : void(l[detail::index_of<In>(nodes{})] = j)), ...);
            }(typename at<j>::inputs{}, last);
        });
        last[K - 1] = K;
        return last;
    }();

    // Kept, node after node: [value k: T x width_k][what node k keeps] (the root's value is y).
    // Scratch (backward only): the gradients, each [T x width_k], placed so that two whose lives do
    // not overlap share their space (first fit, in the order they come alive), then one block for
    // the nodes' own scratch, the largest any of them asks for.
    struct layout_t {
        std::array<std::size_t, K> param{}, value{}, keep{}, grad{}, state{};
        std::size_t param_size = 0, kept_size = 0, grads = 0, node_scratch = 0, state_size = 0;
    };
    static constexpr layout_t layout = [] {
        layout_t l;
        std::array<std::size_t, K> rows{};
        detail::for_each_index<K>([&]<std::size_t k>() {
            using N = at<k>;
            rows[k] = (k + 1 == K) ? 0 : std::size_t(T) * N::width;   // root: y, dy
            l.param[k] = l.param_size;
            l.param_size += N::param_size;
            l.value[k] = l.kept_size;
            l.kept_size += rows[k];
            l.keep[k] = l.kept_size;
            l.kept_size += N::template keep<T>;
            l.state[k] = l.state_size;
            l.state_size += N::template state<T>;
            l.node_scratch = std::max(l.node_scratch, std::size_t(N::template scratch<T>));
        });
        // gradient k is alive over [k, last_reader[k]]; they come alive in decreasing last_reader
        std::array<bool, K> placed{};
        for (std::size_t step = K; step-- > 0;)
            for (std::size_t k = 0; k + 1 < K; ++k) {
                if (last_reader[k] != step || rows[k] == 0) continue;
                std::size_t offset = 0;
                for (bool moved = true; moved;) {   // the lowest offset clear of every live neighbour
                    moved = false;
                    for (std::size_t j = 0; j + 1 < K; ++j)
                        if (placed[j] && j <= last_reader[k] && k <= last_reader[j] && offset < l.grad[j] + rows[j] &&
                            l.grad[j] < offset + rows[k]) {
                            offset = l.grad[j] + rows[j];
                            moved = true;
                        }
                }
                l.grad[k] = offset;
                placed[k] = true;
                l.grads = std::max(l.grads, offset + rows[k]);
            }
        return l;
    }();

    // Every parameter has its own name: a product written twice with one name is refused (a value
    // used twice is written once, as one variable, and computed once).
    static constexpr std::size_t name_count = [] {
        std::size_t m = 0;
        detail::for_each_index<K>([&]<std::size_t k>() { m += detail::param_names_of<at<k>>().size(); });
        return m;
    }();
    static constexpr auto param_names = [] {
        std::array<std::string_view, name_count> names{};
        std::size_t m = 0;
        detail::for_each_index<K>([&]<std::size_t k>() {
            for (auto name : detail::param_names_of<at<k>>()) names[m++] = name;
        });
        return names;
    }();
    struct param_place { std::size_t offset = 0, node = 0; };
    static constexpr auto param_places = [] {
        std::array<param_place, name_count> places{};
        std::size_t m = 0;
        detail::for_each_index<K>([&]<std::size_t k>() {
            if constexpr (requires { at<k>::param_names; }) {
                static_assert(at<k>::param_offsets.size() == at<k>::param_names.size(),
                              "gflow::expr: a node that names its parameters says where each lies: param_offsets");
                for (std::size_t offset : at<k>::param_offsets) places[m++] = {layout.param[k] + offset, k};
            }
        });
        return places;
    }();
    static_assert(detail::all_distinct(param_names),
                  "gflow::expression: two products of the expression have the same parameter name; give "
                  "each its own (a value used twice is written once, as a variable, and computed once)");

    static constexpr std::size_t param_size = layout.param_size;
    static constexpr std::size_t kept_size = layout.kept_size;
    static constexpr std::size_t scratch_size = layout.grads + layout.node_scratch;
    static constexpr std::size_t act_size = kept_size + scratch_size;
    static constexpr std::size_t state_size = layout.state_size;

    static constexpr flop_count flops(long length) {
        flop_count total{};
        for_each_index([&]<std::size_t k>() { total = total + detail::node_flops<at<k>>(length); });
        return total;
    }

    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        for_each_index([&]<std::size_t k>() { at<k>::for_each_param(f, offset + layout.param[k], prefix); });
    }
    static void summarize(std::vector<summary_row>& rows, int depth) {
        for_each_index([&]<std::size_t k>() {
            using N = at<k>;
            const std::size_t value = (k + 1 == K) ? 0 : std::size_t(T) * N::width;
            rows.push_back({depth, N::label(), detail::first_input_width<N>(), N::width, N::param_size,
                            value + N::template keep<T>, value + N::template scratch<T>});
        });
    }

    template <class S>
    static void forward(const pass& p, const S* w, S* a, const S* x, S* y) {
        S* node_scratch = scratch_area(p, a, kept_size) + layout.grads;
        for_each_index([&]<std::size_t k>() {
            using N = at<k>;
            N::template forward<T>(p, w + layout.param[k], a + layout.keep[k], node_scratch, value<k>(a, y),
                                   inputs<N>(a, x));
        });
    }

    template <class S>
    static void backward(const pass& p, const S* w, S* dw, S* a, const S* x, const S* y, const S* dy,
                         S* dx) {
        S* grads = scratch_area(p, a, kept_size);   // [the gradients, shared where their lives allow]
        S* node_scratch = grads + layout.grads;
        detail::for_each_index_reversed<K>([&]<std::size_t k>() {
            using N = at<k>;
            // the gradients whose first writer is this node come alive here: zeroed once
            detail::for_each_index<K - 1>([&]<std::size_t j>() {
                if constexpr (last_reader[j] == k) kernels::zero(grads + layout.grad[j], p.n * at<j>::width);
            });
            const S* out = (k + 1 == K) ? y : a + layout.value[k];
            const S* dout = (k + 1 == K) ? dy : grads + layout.grad[k];
            N::template backward<T>(p, w + layout.param[k], dw + layout.param[k], a + layout.keep[k], node_scratch,
                                    out, dout, inputs<N>(a, x), gradients<N>(grads, dx));
        });
    }

    template <class S>
    static void decode(const pass& p, const S* w, S* a, S* state, const S* x, S* y) {
        S* node_scratch = scratch_area(p, a, kept_size) + layout.grads;
        for_each_index([&]<std::size_t k>() {
            using N = at<k>;
            if constexpr (N::template state<T> > 0)
                N::template decode<T>(p, w + layout.param[k], a + layout.keep[k], node_scratch,
                                      state + layout.state[k], value<k>(a, y), inputs<N>(a, x));
            else
                N::template forward<T>(p, w + layout.param[k], a + layout.keep[k], node_scratch, value<k>(a, y),
                                       inputs<N>(a, x));
        });
    }

    // Where the parameter called `name` lies in the term's parameter block, which node owns it, and
    // which node that product reads (K: the input h): for tests and for programs that show a
    // mixer's inner values (examples/teaching), e.g. layout.value[input_node_of("W_plu")], the mean
    // of p̂ that W_plu maps. A name the expression does not have is a compile error where constant.
    static constexpr std::size_t param(std::string_view name) { return param_places[name_index(name)].offset; }
    static constexpr std::size_t node_of(std::string_view name) { return param_places[name_index(name)].node; }
    static constexpr std::size_t input_node_of(std::string_view name) {
        std::size_t index = K;
        detail::for_each_index<K>([&]<std::size_t k>() {
            if (k == node_of(name))
                index = []<class First, class... Rest>(type_list<First, Rest...>) {
                    if constexpr (std::is_same_v<First, input<W>>) return K;
                    else return detail::index_of<First>(nodes{});
                }(typename at<k>::inputs{});
        });
        return index;
    }

private:
    static constexpr std::size_t name_index(std::string_view name) {
        for (std::size_t i = 0; i < name_count; ++i)
            if (param_names[i] == name) return i;
        throw "gflow::expression: the expression has no parameter of that name";
    }
    template <std::size_t k, class S>
    static S* value(S* a, S* y) {
        if constexpr (k + 1 == K) return y; else return a + layout.value[k];
    }
    template <class N, class S>
    static auto inputs(S* a, const S* x) {
        return []<class... In>(type_list<In...>, S* a_, const S* x_) {
            return std::array<const S*, sizeof...(In)>{source<In>(a_, x_)...};
        }(typename N::inputs{}, a, x);
    }
    template <class N, class S>
    static auto gradients(S* a, S* dx) {
        return []<class... In>(type_list<In...>, S* a_, S* dx_) {
            return std::array<S*, sizeof...(In)>{gradient_of<In>(a_, dx_)...};
        }(typename N::inputs{}, a, dx);
    }
    template <class In, class S>
    static const S* source(S* a, const S* x) {
        if constexpr (std::is_same_v<In, input<W>>) return x;
        else return a + layout.value[detail::index_of<In>(nodes{})];
    }
    template <class In, class S>
    static S* gradient_of(S* a, S* dx) {
        if constexpr (std::is_same_v<In, input<W>>) return dx;
        else return a + layout.grad[detail::index_of<In>(nodes{})];   // a: the gradients' base
    }
};

}  // namespace gflow::expr
