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
// (2e6 random vectors of the range): 1.01 ulps in float, 1.68 in double, the same for numbers and
// vectors (tests/core/test_exp.cpp holds both within 2). Other types (long double in the gradient
// checks) use std::exp.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace gflow {

namespace detail {

// One definition for a number and for a vector of numbers X (GCC/Clang vector extensions), with I
// the integers of the same shape: a softmax over whole vectors of a row (core/causal_attention.hpp)
// calls it on vectors, where a `#pragma omp simd` loop around the scalar call compiled to masked
// operations on one latency-bound chain per vector.
template <class X, class I>
inline X exp_f32(X x) {
    const X lowest = X{} - 87.0f, highest = X{} + 88.0f;
    x = x < lowest ? lowest : x;
    x = x > highest ? highest : x;
    constexpr float shifter = 0x1.8p23f;
    const X shifted = x * 1.44269504088896341f + shifter;
    const X k = shifted - shifter;
    const I ki = std::bit_cast<I>(shifted) - std::bit_cast<std::int32_t>(shifter);
    X r = x - k * 0.693359375f;
    r = r + k * 2.12194440e-4f;
    X p = X{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const X e = p * (r * r) + r + 1.0f;
    return e * std::bit_cast<X>((ki + 127) << 23);
}

template <class X, class I>
inline X exp_f64(X x) {
    const X lowest = X{} - 708.0, highest = X{} + 709.0;
    x = x < lowest ? lowest : x;
    x = x > highest ? highest : x;
    constexpr double shifter = 0x1.8p52;
    const X shifted = x * 1.4426950408889634073599 + shifter;
    const X k = shifted - shifter;
    const I ki = std::bit_cast<I>(shifted) - std::bit_cast<std::int64_t>(shifter);
    X r = x - k * 6.93145751953125e-1;
    r = r - k * 1.42860682030941723212e-6;
    const X rr = r * r;
    const X px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr +
                      9.99999999999999999910e-1);
    const X qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr +
                  2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
    const X e = 1.0 + 2.0 * (px / (qx - px));
    return e * std::bit_cast<X>((ki + 1023) << 52);
}

}  // namespace detail

inline float vexp(float x) { return detail::exp_f32<float, std::int32_t>(x); }
inline double vexp(double x) { return detail::exp_f64<double, std::int64_t>(x); }

// A vector of floats or doubles of the GCC/Clang vector extensions (neither a class nor a pointer,
// and its lanes by subscript).
template <class V>
concept float_lanes = !std::is_class_v<V> && !std::is_pointer_v<V> && !std::is_arithmetic_v<V> &&
                      requires(V v) {
                          requires std::is_same_v<std::remove_cvref_t<decltype(v[0])>, float> ||
                                   std::is_same_v<std::remove_cvref_t<decltype(v[0])>, double>;
                      };

// exp of every lane of a vector: vexp lane by lane, in vector registers.
template <float_lanes V>
inline V vexp(V x) {
    using S = std::remove_cvref_t<decltype(x[0])>;
    using I [[gnu::vector_size(sizeof(V))]] = std::conditional_t<sizeof(S) == 4, std::int32_t, std::int64_t>;
    if constexpr (sizeof(S) == 4) return detail::exp_f32<V, I>(x);
    else return detail::exp_f64<V, I>(x);
}

template <class S>
    requires(!std::is_same_v<S, float> && !std::is_same_v<S, double> && !float_lanes<S>)
inline S vexp(S x) {
    return std::exp(x);
}

}  // namespace gflow
