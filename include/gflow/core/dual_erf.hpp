// gflow/core/dual_erf.hpp: the error function in gflow's elementwise vocabulary, so that the
// exact GELU, 0.5 x (1 + erf(x / √2)), gets its derivative generated like every other map:
//
//   erf'(x) = 2/√π · exp(-x²)
//
// A header of its own beside core/dual.hpp (which it extends, unchanged): gflow::math::erf works
// on plain scalars and on duals, and duals find it by argument-dependent lookup.
#pragma once
#include <cmath>
#include <numbers>

#include <gflow/core/dual.hpp>

namespace gflow {
namespace math {
template <arithmetic S> inline S erf(S x) { return std::erf(x); }

template <class S, int N> inline dual<S, N> erf(const dual<S, N>& a) {
    return detail::chain(a, S(std::erf(a.v)), S(std::numbers::inv_sqrtpi_v<S> * 2) * std::exp(-a.v * a.v));
}
}  // namespace math

using math::erf;

}  // namespace gflow
