// gflow/core/exp.hpp: an exponential that vectorises without -ffast-math.
//
// A call to std::exp inside a loop keeps the loop scalar (the compiler cannot vectorise a libm
// call unless -ffast-math lets it use libmvec), and a softmax or a sigmoid gate computes one per
// element: in the names step that is about a thousand calls. gflow::vexp is inline arithmetic,
// so a `#pragma omp simd` loop around it becomes vector code.
//
//   exp(x) = 2^k · exp(r),  k = round(x / ln 2),  |r| <= ln 2 / 2,
// r by Cody-Waite reduction (ln 2 in two parts), exp(r) by Cephes' minimax polynomial (float) or
// its rational form (double), 2^k built directly in the exponent bits. The rounding shifter
// 1.5 · 2^mantissa leaves k in the low bits of x / ln 2 + shifter, so no float-to-int conversion
// is needed. x is clamped to the range where 2^k is a normal number: below it the result is
// ~1e-38 (f32) / ~1e-308 (f64) instead of a subnormal or 0, above it ~1.7e38 / ~8e307 instead of
// inf. gflow uses exp after subtracting a maximum (softmax, cross-entropy: arguments <= 0) and in
// sigmoids, where neither clamp changes a result by more than that. Error against long double
// (2e6 random points of the range): below 1 ulp in float, 1.7 ulps in double. Other types (long
// double in the gradient checks) use std::exp.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace gflow {

inline float vexp(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    constexpr float shifter = 0x1.8p23f;
    const float shifted = x * 1.44269504088896341f + shifter;
    const float k = shifted - shifter;
    const std::int32_t ki = std::bit_cast<std::int32_t>(shifted) - std::bit_cast<std::int32_t>(shifter);
    float r = x - k * 0.693359375f;
    r = r + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float e = p * (r * r) + r + 1.0f;
    return e * std::bit_cast<float>((ki + 127) << 23);
}

inline double vexp(double x) {
    x = x < -708.0 ? -708.0 : x;
    x = x > 709.0 ? 709.0 : x;
    constexpr double shifter = 0x1.8p52;
    const double shifted = x * 1.4426950408889634073599 + shifter;
    const double k = shifted - shifter;
    const std::int64_t ki = std::bit_cast<std::int64_t>(shifted) - std::bit_cast<std::int64_t>(shifter);
    double r = x - k * 6.93145751953125e-1;
    r = r - k * 1.42860682030941723212e-6;
    const double rr = r * r;
    const double px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr +
                           9.99999999999999999910e-1);
    const double qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr +
                       2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
    const double e = 1.0 + 2.0 * (px / (qx - px));
    return e * std::bit_cast<double>((ki + 1023) << 52);
}

template <class S>
    requires(!std::is_same_v<S, float> && !std::is_same_v<S, double>)
inline S vexp(S x) {
    return std::exp(x);
}

}  // namespace gflow
