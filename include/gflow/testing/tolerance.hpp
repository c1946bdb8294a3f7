// gflow/testing/tolerance.hpp: tolerances derived from the computation, not from what one
// machine printed. A result computed in floating point with n roundings in a row, each with a
// relative error of at most the unit roundoff u (half the machine epsilon), from numbers of
// magnitude m, is off by at most about n·u·m (Higham, Accuracy and Stability of Numerical
// Algorithms, 2nd ed., §3.1: γ_n = n·u / (1 - n·u)). A sum of k terms is k - 1 roundings in any
// order, which is what makes the bound hold whatever the vector width (a sum of 16 floats is
// summed in a different order on AVX2 than on AVX-512) and with or without fused multiply-adds.
#pragma once
#include <limits>

namespace gflow::testing {

// u: the largest relative error of one rounding to nearest in S.
template <class S = double>
inline constexpr double unit_roundoff = std::numeric_limits<S>::epsilon() / 2;

// The relative error bound γ_n of a result of n successive roundings in S.
template <class S = double>
constexpr double roundings(int n) {
    const double nu = n * unit_roundoff<S>;
    return nu / (1 - nu);
}

// The absolute error bound of such a result computed from numbers of magnitude `magnitude`.
template <class S = double>
constexpr double rounding_error(int n, double magnitude) {
    return roundings<S>(n) * magnitude;
}

}  // namespace gflow::testing
