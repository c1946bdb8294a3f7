// gflow/terms/gelu.hpp: GELU, the FFN activation of the paper's model, as an elementwise term
// (its backward is generated from the same function, core/elementwise.hpp).
//
//   gelu:       x Φ(x) = 0.5 x (1 + erf(x / √2))                        exact, torch.nn.GELU()'s
//                                                                         default (the paper's FFN)
//   gelu_tanh:  0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))              the tanh approximation,
//                                                                         GELU(approximate='tanh')
//
// The two differ by at most 4.8e-4 (at |x| ≈ 2.7). erf comes from core/dual_erf.hpp, which gives
// the duals the derivative 2/√π exp(-x²).
#pragma once
#include <numbers>
#include <type_traits>

#include <gflow/core/dual_erf.hpp>
#include <gflow/terms/elementwise.hpp>

namespace gflow::terms {

// erf joins the scalar vocabulary of user functions (elementwise.hpp lists the others).
using gflow::math::erf;

namespace detail {
struct gelu_fn {
    template <class X>
    constexpr auto operator()(const X& x) const {
        using S = std::remove_cvref_t<decltype(gflow::value_of(x))>;   // constants in x's precision
        constexpr S inv_sqrt2 = S(1) / std::numbers::sqrt2_v<S>;
        return S(0.5) * x * (1 + gflow::math::erf(x * inv_sqrt2));
    }
};
struct gelu_tanh_fn {
    template <class X>
    constexpr auto operator()(const X& x) const {
        using S = std::remove_cvref_t<decltype(gflow::value_of(x))>;   // constants in x's precision
        // √(2/π) = √2 / √π
        constexpr S k = std::numbers::sqrt2_v<S> * std::numbers::inv_sqrtpi_v<S>;
        return S(0.5) * x * (1 + gflow::math::tanh(k * (x + S(0.044715) * x * x * x)));
    }
};
}  // namespace detail

using gelu_t = elementwise_t<detail::gelu_fn, "gelu">;
using gelu_tanh_t = elementwise_t<detail::gelu_tanh_fn, "gelu_tanh">;
inline constexpr gelu_t gelu{};
inline constexpr gelu_tanh_t gelu_tanh{};

}  // namespace gflow::terms
