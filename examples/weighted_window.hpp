// A new mixer written as an expression, outside the library (docs/new_mixer.md): the Grassmann
// mixer with a learned weight per offset instead of the plain mean over the window,
//
//     g_t = W_plu · (1/|D_t|) Σ_{δ in D_t} (1 + a_δ) p̂_δ      D_t: the offsets with t - δ >= 0
//
// Its forward, backward, decoding, parameter table and memory plan are generated from the
// expression; the one node it adds, expr::scale (include/gflow/expr/scale.hpp), is two lines of
// hand-written backward.
#pragma once
#include <gflow/expr/scale.hpp>
#include <gflow/gflow.hpp>
#include <gflow/terms/expression.hpp>

namespace weighted {

// "a_1", "a_12", ...: the name of offset δ's weight, made at compile time (a parameter's name is
// part of its node's type, so it must be a constant).
template <int D>
constexpr auto weight_name() {
    static_assert(D >= 1 && D < 1000, "weight_name<δ>: an offset of 1 to 3 digits");
    constexpr int digits = D < 10 ? 1 : D < 100 ? 2 : 3;
    char name[digits + 3] = {'a', '_'};   // "a_", the digits, '\0'
    for (int i = digits - 1, rest = D; i >= 0; --i, rest /= 10) name[2 + i] = char('0' + rest % 10);
    return gflow::fixed_string<digits + 3>(name);
}

template <int R, int... Offsets>
constexpr auto weighted_grassmann(gflow::terms::window_t<Offsets...>) {
    return gflow::terms::expression<"weighted grassmann">([](auto h, auto d) {
        using namespace gflow::expr;
        auto z = linear<"W_red", R>(h);                                       // z_t = W_red h_t
        auto p = window_mean(scale<weight_name<Offsets>()>(unit(plucker(z, shift<Offsets>(z))))...);
        auto g = linear<"W_plu", d>(p);                                       // g_t = W_plu p̄_t
        return map<"gate and mix">([](auto g_, auto h_, auto a, auto b) {     // α ⊙ h + (1 - α) ⊙ g
            const auto alpha = gflow::math::sigmoid(a + b);
            return alpha * h_ + (1 - alpha) * g_;
        }, g, h, linear<"W_gate_h", d>(h), linear<"W_gate_g", d>(g));
    });
}

// The names benchmark's window (docs/benchmarks.md#names), each offset with its weight.
constexpr auto weighted_mixer = weighted_grassmann<4>(gflow::terms::offsets<1, 2, 4, 8, 12, 16>);

}  // namespace weighted
