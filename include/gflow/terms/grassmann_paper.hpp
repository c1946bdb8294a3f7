// gflow/terms/grassmann_paper.hpp: the Grassmann mixer as the paper's full-scale model has it
// (docs/benchmarks.md#paper-model), written as an expression (terms/expression.hpp);
// grassmann.hpp is the microGrassmann form. The differences: a bias on every map, one gate matrix
// on the concatenation [h; g], and a choice of normalisation.
//
//   z_t  = W_red h_t + b_red                                  r x d, + r
//   p_ij = z_t[i] z_{t-δ}[j] - z_t[j] z_{t-δ}[i],  i < j      C(r,2) Plücker coordinates, paired
//                                                             with the EARLIER position t-δ (the
//                                                             paper's t+δ would leak the future)
//   p̂    = p / max(|p|, 1e-8)               plucker_norm::max     (the paper; the default)
//        = p / sqrt(|p|² + 1e-8)            plucker_norm::smooth  (the microGrassmann reference)
//   g_t  = W_plu · mean_δ p̂_δ + b_plu        over the offsets with t-δ >= 0   d x C(r,2), + d
//   g_t  = 0                                 where no offset exists (t < min δ), as microGrassmann's g_0 = 0:
//                                            the mean of the per-offset W_plu p̂_δ + b_plu is empty
//   α    = sigmoid(W_gate [h_t; g_t] + b_gate)                d x 2d, + d
//   out  = α ⊙ h_t + (1 - α) ⊙ g_t          no residual inside: the blend carries h
//
// W_plu is applied once, to the mean of p̂ (an affine map commutes with a mean). Decoding keeps the
// last max(window) reduced vectors z (constant memory per token).
//
// Parameter names (the paper's symbols, as grassmann.hpp names its own): W_red [r][d],
// b_red [1][r], W_plu [d][C(r,2)], b_plu [1][d], W_gate [d][2d] (columns 0..d-1 act on h,
// d..2d-1 on g), b_gate [1][d].
#pragma once
#include <algorithm>
#include <array>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gflow/terms/expression.hpp>
#include <gflow/terms/grassmann.hpp>

namespace gflow::terms {

template <int R, plucker_norm Norm, int... Offsets>
struct grassmann_paper_expression {
    static std::string label() {
        return fmt::format("grassmann_paper<r={}> window {}, {}", R, std::array{Offsets...}, expr::norm_formula(Norm));
    }
    constexpr auto operator()(auto h, auto d) const {
        using namespace expr;
        auto z = expr::affine<"W_red", "b_red", R>(h);                          // z_t = W_red h_t + b_red
        auto p = window_mean(unit<Norm>(plucker(z, shift<Offsets>(z)))...);     // mean over δ of p̂(z_t, z_{t-δ})
        auto g = valid_only(expr::affine<"W_plu", "b_plu", d>(p));              // 0 where no offset exists
        return map<"gate and mix">(detail::gate_and_mix{}, g, h,                // α ⊙ h + (1 - α) ⊙ g
                                   expr::affine<"W_gate", "b_gate", d>(concat(h, g)));
    }
};

template <int R, plucker_norm Norm, int... Offsets>
struct grassmann_paper_t : expression_t<grassmann_paper_expression<R, Norm, Offsets...>, "grassmann_paper"> {
    static_assert(R >= 2, "gflow::grassmann_paper<r>: r must be at least 2 (a Plücker coordinate "
                          "needs two dimensions)");
    static_assert(sizeof...(Offsets) >= 1, "gflow::grassmann_paper: the window is empty; give at "
                                           "least one offset, e.g. offsets<1>");
    static_assert(((Offsets >= 1) && ...),
                  "gflow::grassmann_paper: every window offset must be at least 1 (a causal layer "
                  "pairs position t with an earlier t-δ)");

    static constexpr int r = R;
    static constexpr int pairs = R * (R - 1) / 2;   // C(r,2)
    static constexpr int K = sizeof...(Offsets);
    static constexpr std::array<int, K> window{Offsets...};
    static constexpr int max_offset = std::max({Offsets...});
    static constexpr int min_offset = std::min({Offsets...});   // positions before it have g = 0
    static constexpr plucker_norm normalisation = Norm;
};

// grassmann_paper<32>(offsets<1, 2, 4, 8, 12, 16>): the paper's mixer, p / max(|p|, ε);
// grassmann_paper<32, plucker_norm::smooth>(...): the same with the reference's p / sqrt(|p|² + 1e-8)
// (docs/benchmarks.md#paper-vs-reference).
template <int R, plucker_norm Norm = plucker_norm::max, int... Offsets>
constexpr grassmann_paper_t<R, Norm, Offsets...> grassmann_paper(window_t<Offsets...>) { return {}; }

}  // namespace gflow::terms
