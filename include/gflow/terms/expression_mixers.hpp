// Interim: the three mixers written as expressions, beside the hand-written ones, until they are
// shown equal (tests/expr/test_mixers_equal.cpp).
#pragma once
#include <gflow/terms/expression.hpp>
#include <gflow/terms/grassmann.hpp>

namespace gflow::terms {

namespace detail {
// α ⊙ h + (1 - α) ⊙ g with α = sigmoid(a + b), the gate's two products a = W_gate_h h, b = W_gate_g g.
struct gate_sum_and_mix {
    template <class G, class H, class A, class B>
    constexpr auto operator()(const G& g, const H& h, const A& a, const B& b) const {
        const auto alpha = gflow::math::sigmoid(a + b);
        return alpha * h + (1 - alpha) * g;
    }
};
}  // namespace detail

template <int R, int... Offsets>
constexpr auto grassmann_expression(window_t<Offsets...>) {
    return expression<"grassmann">([](auto h, auto d) {
        using namespace expr;
        auto z = expr::linear<"W_red", R>(h);                                  // z_t = W_red h_t
        auto p = window_mean(unit(plucker(z, shift<Offsets>(z)))...);    // mean over δ of p̂(z_t, z_{t-δ})
        auto g = expr::linear<"W_plu", d>(p);                                  // g_t = W_plu p̄_t
        return map<"gate and mix">(detail::gate_sum_and_mix{}, g, h, expr::linear<"W_gate_h", d>(h),
                                   expr::linear<"W_gate_g", d>(g));            // α ⊙ h + (1 - α) ⊙ g
    });
}

template <int R, expr::plucker_norm Norm = expr::plucker_norm::max, int... Offsets>
constexpr auto grassmann_paper_expression(window_t<Offsets...>) {
    return expression<"grassmann_paper">([](auto h, auto d) {
        using namespace expr;
        auto z = expr::affine<"W_red", "b_red", R>(h);
        auto p = window_mean(unit<Norm>(plucker(z, shift<Offsets>(z)))...);
        auto g = valid_only(expr::affine<"W_plu", "b_plu", d>(p));             // 0 where no offset exists
        return map<"gate and mix">(detail::gate_and_mix{}, expr::affine<"W_gate", "b_gate", d>(concat(h, g)), h, g);
    });
}

template <int H>
constexpr auto attention_expression = expression<"attention">([](auto h, auto d) {
    using namespace expr;
    auto o = attend<H>(expr::linear<"attn_wq", d>(h), expr::linear<"attn_wk", d>(h), expr::linear<"attn_wv", d>(h));
    return expr::linear<"attn_wo", d>(o);
});

}  // namespace gflow::terms
