// gflow/terms/grassmann.hpp: the Grassmann (Plücker) mixer of "Attention Is Not What You Need"
// (arXiv:2512.19428), in the microGrassmann form of docs/benchmarks.md#grassmann-mixer, written as
// an expression (terms/expression.hpp): forward, backward and decoding are generated from it.
//
//   z_t  = W_red h_t                                          r x d
//   p_ij = z_t[i] z_{t-δ}[j] - z_t[j] z_{t-δ}[i],  i < j       C(r,2) Plücker coordinates
//   p̂    = p / sqrt(|p|^2 + 1e-8)
//   g_t  = W_plu · mean_δ p̂_δ   over the offsets with t-δ >= 0 (g_0 = 0)
//   α    = sigmoid(W_gate_h h_t + W_gate_g g_t);   out = α ⊙ h_t + (1 - α) ⊙ g_t
//
// W_plu is applied once, to the mean of p̂ (it is linear). The window's mean of unit Plücker
// vectors is recognised as one node (expr/plucker.hpp: one loop per position for coordinates,
// normalisation and mean); the gate and mix is one generated elementwise loop.
// Cost per position: O(|window| (r d + C(r,2) d)); a sequence is O(L).
// Decoding keeps only the last max(window) reduced vectors z (constant memory per token).
#pragma once
#include <algorithm>
#include <array>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gflow/terms/expression.hpp>

namespace gflow::terms {

template <int... Offsets>
struct window_t {};
// offsets<1, 2, 4>: the positions t-1, t-2, t-4 that a Grassmann layer pairs with t.
template <int... Offsets>
inline constexpr window_t<Offsets...> offsets{};

// The Plücker map's functions, for programs that show it step by step (examples/teaching).
using expr::plucker_coordinates, expr::plucker_dot, expr::plucker_coordinates_backward, expr::plucker_flops,
    expr::plucker_rows_from, expr::plucker_norm;

namespace detail {
// α ⊙ h + (1 - α) ⊙ g with α = sigmoid(gate): the mix of both Grassmann mixers.
struct gate_and_mix {
    static constexpr bool on_lanes = true;   // runs on whole registers (core/elementwise.hpp)
    template <class G, class A, class H>
    constexpr auto operator()(const G& g, const H& h, const A& gate) const {
        const auto alpha = gflow::math::sigmoid(gate);
        return alpha * h + (1 - alpha) * g;
    }
};
// The same with the gate's two products a = W_gate_h h, b = W_gate_g g added in the loop.
struct gate_sum_and_mix {
    static constexpr bool on_lanes = true;
    template <class G, class H, class A, class B>
    constexpr auto operator()(const G& g, const H& h, const A& a, const B& b) const {
        return gate_and_mix{}(g, h, a + b);
    }
};
}  // namespace detail

template <int R, int... Offsets>
struct grassmann_expression {
    static std::string label() { return fmt::format("grassmann<r={}> window {}", R, std::array{Offsets...}); }

    constexpr auto operator()(auto h, auto d) const {
        using namespace expr;
        auto z = expr::linear<"W_red", R>(h);                            // z_t = W_red h_t
        auto p = window_mean(unit(plucker(z, shift<Offsets>(z)))...);    // mean over δ of p̂(z_t, z_{t-δ})
        auto g = expr::linear<"W_plu", d>(p);                            // g_t = W_plu p̄_t
        return map<"gate and mix">(detail::gate_sum_and_mix{}, g, h,     // α ⊙ h + (1 - α) ⊙ g
                                   expr::linear<"W_gate_h", d>(h), expr::linear<"W_gate_g", d>(g));
    }
};

template <int R, int... Offsets>
struct grassmann_t : expression_t<grassmann_expression<R, Offsets...>, "grassmann"> {
    static_assert(R >= 2, "gflow::grassmann<r>: r must be at least 2 (a Plücker coordinate needs "
                          "two dimensions)");
    static_assert(sizeof...(Offsets) >= 1,
                  "gflow::grassmann: the window is empty; give at least one offset, e.g. offsets<1>");
    static_assert(((Offsets >= 1) && ...),
                  "gflow::grassmann: every window offset must be at least 1 (a causal layer pairs "
                  "position t with an earlier t-δ)");

    static constexpr int r = R;
    static constexpr int pairs = R * (R - 1) / 2;   // C(r,2)
    static constexpr int K = sizeof...(Offsets);
    static constexpr std::array<int, K> window{Offsets...};
    static constexpr int max_offset = std::max({Offsets...});

    // The expression's term, with its values named as the formulas above name them: where each
    // lies in the activation block (for programs that show them, examples/teaching).
    template <dims C, int W>
    struct impl : expression_t<grassmann_expression<R, Offsets...>, "grassmann">::template impl<C, W> {
        using base = typename expression_t<grassmann_expression<R, Offsets...>, "grassmann">::template impl<C, W>;
        static constexpr std::size_t z = base::layout.value[base::node_of("W_red")];              // [T][r]
        static constexpr std::size_t pbar = base::layout.value[base::input_node_of("W_plu")];     // [T][C(r,2)] mean of p̂
        // [T][K][C(r,2)] at r < 8; from r = 8 p̂ is not kept (backward recomputes it: expr/plucker.hpp)
        static constexpr std::size_t phat = base::layout.keep[base::input_node_of("W_plu")];
        static constexpr std::size_t g = base::layout.value[base::node_of("W_plu")];              // [T][d]
        static constexpr std::size_t gate_h = base::layout.value[base::node_of("W_gate_h")];      // [T][d] W_gate_h h
        static constexpr std::size_t gate_g = base::layout.value[base::node_of("W_gate_g")];      // [T][d] W_gate_g g
        // the pair (i, j), i < j, of each Plücker coordinate, in plucker_coordinates' order
        static constexpr auto pair_index = [] {
            std::array<std::array<int, 2>, pairs> ij{};
            int k = 0;
            for (int i = 0; i < R; ++i)
                for (int j = i + 1; j < R; ++j) ij[k++] = {i, j};
            return ij;
        }();
    };
};

// grassmann<4>(offsets<1, 2, 4, 8, 12, 16>)
template <int R, int... Offsets>
constexpr grassmann_t<R, Offsets...> grassmann(window_t<Offsets...>) { return {}; }

}  // namespace gflow::terms
