// gflow/core/dual.hpp: forward-mode dual numbers with N tangents. An elementwise term is written
// once, as a generic function of its inputs; evaluated on plain scalars it is the forward pass,
// evaluated on duals it yields every partial derivative at once, which the generated backward
// multiplies by the incoming gradient. No derivative is written by hand.
#pragma once
#include <array>
#include <cmath>
#include <type_traits>

#include <gflow/core/exp.hpp>

namespace gflow {

template <class S, int N>
struct dual {
    S v;                    // value
    std::array<S, N> d;     // d[k] = d value / d input k
};

template <class T> struct is_dual : std::false_type {};
template <class S, int N> struct is_dual<dual<S, N>> : std::true_type {};

template <class A>
concept arithmetic = std::is_arithmetic_v<A>;

// The number c as an S: S(c) for a number, c in every lane for a vector of lanes (a map whose
// function declares on_lanes runs on vectors of registers, core/elementwise.hpp, and so do its
// duals: dual<V, K> of vectors V; GCC's vectors take no functional cast from a number).
template <class S> struct element_of { using type = S; };
template <float_lanes V> struct element_of<V> { using type = std::remove_cvref_t<decltype(V{}[0])>; };
template <class S> using element_t = typename element_of<S>::type;
template <class S, arithmetic A>
constexpr S constant(A c) {
    if constexpr (float_lanes<S>) return S{} + element_t<S>(c);
    else return S(c);
}

// ---- arithmetic: dual op dual ------------------------------------------------------------
template <class S, int N>
constexpr dual<S, N> operator+(const dual<S, N>& a, const dual<S, N>& b) {
    dual<S, N> r{a.v + b.v, {}};
    for (int k = 0; k < N; ++k) r.d[k] = a.d[k] + b.d[k];
    return r;
}
template <class S, int N>
constexpr dual<S, N> operator-(const dual<S, N>& a, const dual<S, N>& b) {
    dual<S, N> r{a.v - b.v, {}};
    for (int k = 0; k < N; ++k) r.d[k] = a.d[k] - b.d[k];
    return r;
}
template <class S, int N>
constexpr dual<S, N> operator*(const dual<S, N>& a, const dual<S, N>& b) {
    dual<S, N> r{a.v * b.v, {}};
    for (int k = 0; k < N; ++k) r.d[k] = a.d[k] * b.v + a.v * b.d[k];
    return r;
}
template <class S, int N>
constexpr dual<S, N> operator/(const dual<S, N>& a, const dual<S, N>& b) {
    const S inv = constant<S>(1) / b.v;
    dual<S, N> r{a.v * inv, {}};
    for (int k = 0; k < N; ++k) r.d[k] = (a.d[k] - r.v * b.d[k]) * inv;
    return r;
}
template <class S, int N>
constexpr dual<S, N> operator-(const dual<S, N>& a) {
    dual<S, N> r{-a.v, {}};
    for (int k = 0; k < N; ++k) r.d[k] = -a.d[k];
    return r;
}

// ---- arithmetic with constants (a constant has no tangent) -----------------------------
template <class S, int N, arithmetic A>
constexpr dual<S, N> operator+(const dual<S, N>& a, A c) { return {a.v + constant<S>(c), a.d}; }
template <class S, int N, arithmetic A>
constexpr dual<S, N> operator+(A c, const dual<S, N>& a) { return {constant<S>(c) + a.v, a.d}; }
template <class S, int N, arithmetic A>
constexpr dual<S, N> operator-(const dual<S, N>& a, A c) { return {a.v - constant<S>(c), a.d}; }
template <class S, int N, arithmetic A>
constexpr dual<S, N> operator-(A c, const dual<S, N>& a) { return c + (-a); }
template <class S, int N, arithmetic A>
constexpr dual<S, N> operator*(const dual<S, N>& a, A c) {
    dual<S, N> r{a.v * constant<S>(c), {}};
    for (int k = 0; k < N; ++k) r.d[k] = a.d[k] * constant<S>(c);
    return r;
}
template <class S, int N, arithmetic A>
constexpr dual<S, N> operator*(A c, const dual<S, N>& a) { return a * c; }
template <class S, int N, arithmetic A>
constexpr dual<S, N> operator/(const dual<S, N>& a, A c) { return a * constant<S>(element_t<S>(1) / element_t<S>(c)); }
template <class S, int N, arithmetic A>
constexpr dual<S, N> operator/(A c, const dual<S, N>& a) {
    const S inv = constant<S>(1) / a.v;
    dual<S, N> r{constant<S>(c) * inv, {}};
    for (int k = 0; k < N; ++k) r.d[k] = -r.v * inv * a.d[k];
    return r;
}

// ---- functions: one chain rule each, on the value's derivative f'(v) -------------------
namespace detail {
template <class V, class F>
inline V each_lane(V x, F f) {
    for (int j = 0; j < int(sizeof(V) / sizeof(x[0])); ++j) x[j] = f(x[j]);
    return x;
}
template <class S, int N>
constexpr dual<S, N> chain(const dual<S, N>& a, S value, S derivative) {
    dual<S, N> r{value, {}};
    for (int k = 0; k < N; ++k) r.d[k] = derivative * a.d[k];
    return r;
}
}  // namespace detail

// The elementwise vocabulary. Each works on plain scalars and on duals, so user functions
// written with them (`x * sigmoid(1.702 * x)`) get their derivative generated; and on vectors of
// lanes (float_lanes, and duals of them) for the maps that run on whole registers
// (core/elementwise.hpp): exp and sigmoid by vexp's vector form, the same arithmetic as for a
// number, so each lane is what the scalar call gives; log, sqrt and tanh lane by lane.
namespace math {
template <class S>
concept number_or_lanes = arithmetic<S> || float_lanes<S>;

template <number_or_lanes S> inline S exp(S x) { return vexp(x); }   // vectorises (core/exp.hpp)
template <number_or_lanes S> inline S sigmoid(S x) { return constant<S>(1) / (constant<S>(1) + vexp(-x)); }
template <number_or_lanes S> inline S relu(S x) { return x > S{} ? x : S{}; }
template <number_or_lanes S> inline S square(S x) { return x * x; }
template <arithmetic S> inline S log(S x) { return std::log(x); }
template <arithmetic S> inline S sqrt(S x) { return std::sqrt(x); }
template <arithmetic S> inline S tanh(S x) { return std::tanh(x); }
template <float_lanes V> inline V log(V x) { return gflow::detail::each_lane(x, [](auto e) { return std::log(e); }); }
template <float_lanes V> inline V sqrt(V x) { return gflow::detail::each_lane(x, [](auto e) { return std::sqrt(e); }); }
template <float_lanes V> inline V tanh(V x) { return gflow::detail::each_lane(x, [](auto e) { return std::tanh(e); }); }

template <class S, int N> inline dual<S, N> exp(const dual<S, N>& a) {
    const S e = vexp(a.v);
    return gflow::detail::chain(a, e, e);
}
template <class S, int N> inline dual<S, N> log(const dual<S, N>& a) {
    return gflow::detail::chain(a, math::log(a.v), constant<S>(1) / a.v);
}
template <class S, int N> inline dual<S, N> sqrt(const dual<S, N>& a) {
    const S s = math::sqrt(a.v);
    return gflow::detail::chain(a, s, constant<S>(0.5) / s);
}
template <class S, int N> inline dual<S, N> tanh(const dual<S, N>& a) {
    const S t = math::tanh(a.v);
    return gflow::detail::chain(a, t, constant<S>(1) - t * t);
}
template <class S, int N> inline dual<S, N> sigmoid(const dual<S, N>& a) {
    const S s = constant<S>(1) / (constant<S>(1) + vexp(-a.v));
    return gflow::detail::chain(a, s, s * (constant<S>(1) - s));
}
// The derivative at 0 is taken as 0 (the subgradient PyTorch uses).
template <class S, int N> inline dual<S, N> relu(const dual<S, N>& a) {
    const auto positive = a.v > S{};   // a mask of lanes for vectors
    dual<S, N> r{positive ? a.v : S{}, {}};
    for (int k = 0; k < N; ++k) r.d[k] = positive ? a.d[k] : S{};
    return r;
}
template <class S, int N> inline dual<S, N> square(const dual<S, N>& a) { return a * a; }
}  // namespace math

// Duals find these by argument-dependent lookup.
using math::exp, math::log, math::sqrt, math::tanh, math::sigmoid, math::relu, math::square;

template <class T> constexpr auto value_of(const T& x) {
    if constexpr (is_dual<T>::value) return x.v; else return x;
}

}  // namespace gflow
