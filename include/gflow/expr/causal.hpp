// gflow/expr/causal.hpp: how a causal expression reaches earlier positions.
//
//   shift<δ>(x)           y_t = x_{t-δ}; nothing before position δ (0 there, and it is
//                         marked: first_valid grows by δ). Decoding keeps a ring of the last δ rows.
//   window_mean(x_1..x_K) y_t = the mean of the x_k that exist at t (t >= first_valid of x_k),
//                         with their count at t (the Grassmann mixer's mean over offsets); 0
//                         where none does.
//   valid_only(x)         x where it exists, 0 before its first_valid (the paper's g_t = 0 where
//                         no offset exists, after a bias).
#pragma once
#include <algorithm>
#include <array>
#include <string>

#include <fmt/format.h>

#include <gflow/expr/graph.hpp>

namespace gflow::expr {

template <int D, node X>
struct shift_node : node_base, no_params_node {
    static_assert(D >= 1, "gflow::expr::shift<δ>: δ must be at least 1 (a causal expression looks back)");
    using inputs = type_list<X>;
    static constexpr int width = X::width, first_valid = X::first_valid + D;
    template <int T> static constexpr std::size_t keep = 0;
    template <int T> static constexpr std::size_t scratch = 0;
    template <int T> static constexpr std::size_t state = std::size_t(D) * X::width;   // ring [δ][width]
    static std::string label() { return fmt::format("shift by {} [ring of {} row{} when decoding]", D, D, D == 1 ? "" : "s"); }

    template <int T, class S>
    static void forward(const pass& p, const S*, S*, S*, S* y, std::array<const S*, 1> x) {
        const int before = std::min(p.n, D);
        kernels::zero(y, before * width);
        for (int i = 0; i < (p.n - before) * width; ++i) y[before * width + i] = x[0][i];
    }
    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S*, S*, const S*, const S* dy, std::array<const S*, 1>,
                         std::array<S*, 1> dx) {
        for (int i = 0; i < (p.n - D) * width; ++i) dx[0][i] += dy[D * width + i];
    }
    // Position t = p.first_position: y = the row of t - δ, which lies in slot t mod δ of the ring
    // until x_t replaces it.
    template <int T, class S>
    static void decode(const pass& p, const S*, S*, S*, S* ring, S* y, std::array<const S*, 1> x) {
        const int t = p.first_position;
        S* slot = ring + (t % D) * width;   // [width]
        for (int i = 0; i < width; ++i) {
            y[i] = t >= D ? slot[i] : S(0);
            slot[i] = x[0][i];
        }
    }
};

template <node... Xs>
struct window_mean_node : node_base, no_params_node, stateless_node {
    static_assert(sizeof...(Xs) >= 1, "gflow::expr::window_mean(x...): the window is empty");
    static constexpr int K = sizeof...(Xs);
    static constexpr int width = std::max({Xs::width...});
    static_assert(((Xs::width == width) && ...), "gflow::expr::window_mean(x...): every value has the same width");
    using inputs = type_list<Xs...>;
    static constexpr int first_valid = std::min({Xs::first_valid...});
    static constexpr std::array<int, K> starts{Xs::first_valid...};
    static std::string label() { return fmt::format("window_mean of {} [over those that exist at t]", K); }

    static constexpr int count_at(int position) {
        int count = 0;
        for (int start : starts) count += position >= start;
        return count;
    }
    // One element at a time, summing over the values: the row-at-a-time form (zero the row, add each
    // value's row, divide) was miscompiled by GCC 12.2 at -O3 for two values (value-range
    // propagation with the vectoriser: the second value read as 0 on most rows; fine with
    // -fno-tree-vrp, clang and -O2). tests/expr/test_nodes.cpp checks two values by hand.
    template <int T, class S>
    static void forward(const pass& p, const S*, S*, S*, S* y, std::array<const S*, K> x) {
        for (int t = 0; t < p.n; ++t) {
            const int position = p.first_position + t, count = count_at(position);
            for (int c = 0; c < width; ++c) {
                S sum = 0;   // over the values that exist at t, in order
                for (int k = 0; k < K; ++k)
                    if (position >= starts[k]) sum += x[k][t * width + c];
                y[t * width + c] = count > 1 ? sum / S(count) : sum;
            }
        }
    }
    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S*, S*, const S*, const S* dy, std::array<const S*, K>,
                         std::array<S*, K> dx) {
        for (int t = 0; t < p.n; ++t) {
            const int position = p.first_position + t, count = count_at(position);
            for (int k = 0; k < K; ++k)
                if (position >= starts[k])
                    for (int c = 0; c < width; ++c) dx[k][t * width + c] += dy[t * width + c] / S(count);
        }
    }
};

template <node X>
struct valid_only_node : node_base, no_params_node, stateless_node {
    using inputs = type_list<X>;
    static constexpr int width = X::width, first_valid = X::first_valid;
    static std::string label() { return fmt::format("valid_only [0 before position {}]", first_valid); }

    template <int T, class S>
    static void forward(const pass& p, const S*, S*, S*, S* y, std::array<const S*, 1> x) {
        for (int t = 0; t < p.n; ++t)
            for (int c = 0; c < width; ++c)
                y[t * width + c] = p.first_position + t >= first_valid ? x[0][t * width + c] : S(0);
    }
    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S*, S*, const S*, const S* dy, std::array<const S*, 1>,
                         std::array<S*, 1> dx) {
        for (int t = std::max(0, first_valid - p.first_position); t < p.n; ++t)
            for (int c = 0; c < width; ++c) dx[0][t * width + c] += dy[t * width + c];
    }
};

// The node window_mean(x...) makes: window_mean_node, unless a header recognises the pattern and
// names a fused node (expr/plucker.hpp: the mean of unit Plücker vectors of z and its shifts).
template <node... Xs>
struct window_mean_of { using type = window_mean_node<Xs...>; };

template <node... Xs>
constexpr typename window_mean_of<Xs...>::type window_mean(Xs...) { return {}; }
template <int D, node X>
constexpr shift_node<D, X> shift(X) { return {}; }
template <node X>
constexpr valid_only_node<X> valid_only(X) { return {}; }

}  // namespace gflow::expr
