// gflow/core/elementwise.hpp: fused elementwise maps of K inputs. Forward: one loop that
// evaluates the user's function on scalars. Backward: one loop that re-evaluates it on duals
// (K tangents) and accumulates dy * df/dx_k into each input's gradient. The derivative is
// generated from the same function; there is nothing to keep in sync.
#pragma once
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <gflow/core/dual.hpp>
#include <gflow/core/kernels.hpp>

namespace gflow {

template <class F>
concept elementwise_function = std::is_empty_v<F> && std::is_default_constructible_v<F>;

// A function object that declares `static constexpr bool on_lanes = true` is written with
// gflow::math and arithmetic alone (no branch on a value, no constant that does not fit the
// element type), so it can be evaluated on vectors of lanes and on duals of them: its maps run on
// whole registers. GCC 12 leaves a map of the scalar function scalar: the clamps of exp's range
// become branches (forward: "control flow in loop") and the duals' K-tangent loops a loop nest
// (backward), and the Grassmann mixer's gate and mix took 12 % of the width-64 step so. A lambda
// cannot declare it and keeps the scalar loop.
template <class F>
concept on_lanes_function = elementwise_function<F> && requires { requires F::on_lanes; };

// f_k(... f_2(f_1(x))): a run of elementwise functions as one (terms/elementwise.hpp fuses
// adjacent elementwise terms of a chain into it). Each stage's result is rounded to the
// argument's type, as the buffer between two unfused terms would round it, so the forward is the
// unfused one bit for bit; on duals the stages chain the tangents, so the backward is exact.
template <elementwise_function... Fs>
struct composed {
    static constexpr bool on_lanes = (on_lanes_function<Fs> && ...);
    template <class X>
    constexpr X operator()(X x) const {
        ((x = static_cast<X>(Fs{}(x))), ...);
        return x;
    }
};

namespace kernels {

namespace detail {
// Vectors of a map over S: float and double in registers of more than one lane, where F runs on them.
template <class F, class S>
inline constexpr int map_lanes =
    on_lanes_function<F> && (std::is_same_v<S, float> || std::is_same_v<S, double>) ? simd::register_lanes<S> : 1;

// The vector of L lanes of S as a type that survives being a template argument (dual<V, K>): GCC 12
// drops the vector_size of kernels::lanes, an alias template, there and leaves S.
template <class S, int L>
struct lane_vector {
    typedef S type [[gnu::vector_size(L * sizeof(S))]];
};

template <class S, int K, std::size_t k>
constexpr std::array<S, K> unit_tangent() {   // input k carries the unit tangent e_k
    std::array<S, K> e{};
    e[k] = constant<S>(1);
    return e;
}
}  // namespace detail

// y[i] = f(x_0[i], ..., x_{K-1}[i]) for i < count: whole vectors of lanes first where F runs on
// them, then one by one. A lane's arithmetic is the scalar call's, so the two agree to rounding
// (bit for bit where the compiler contracts both alike); which elements run in vectors depends on
// count alone, never on the thread count.
template <class F, class S, class... In>
inline void map_forward(int count, S* __restrict y, const In* __restrict... x) {
    const F f{};
    int i = 0;
    if constexpr (constexpr int L = detail::map_lanes<F, S>; L > 1 && (std::is_same_v<In, S> && ...)) {
        using V = typename detail::lane_vector<S, L>::type;
        for (; i + L <= count; i += L) detail::store(y + i, static_cast<V>(f(detail::load<V>(x + i)...)));
    }
    GFLOW_SIMD
    for (int j = i; j < count; ++j) y[j] = static_cast<S>(f(x[j]...));
}

// dx[k][i] += dy[i] * df/dx_k (x[0][i], ..., x[K-1][i]) for i < count; a null dx[k] is skipped.
template <class F, int K, class S>
inline void map_backward(int count, const S* __restrict dy, std::array<const S*, K> x,
                         std::array<S*, K> dx) {
    const F f{};
    [&]<std::size_t... k>(std::index_sequence<k...>) {
        int i = 0;
        if constexpr (constexpr int L = detail::map_lanes<F, S>; L > 1) {
            using V = typename detail::lane_vector<S, L>::type;
            for (; i + L <= count; i += L) {
                const auto r = f(dual<V, K>{detail::load<V>(x[k] + i), detail::unit_tangent<V, K, k>()}...);
                const V g = detail::load<V>(dy + i);
                ((dx[k] ? detail::store(dx[k] + i, detail::load<V>(dx[k] + i) + g * r.d[k]) : (void)0), ...);
            }
        }
        for (; i < count; ++i) {
            const auto r = f(dual<S, K>{x[k][i], detail::unit_tangent<S, K, k>()}...);
            ((dx[k] ? (void)(dx[k][i] += dy[i] * r.d[k]) : (void)0), ...);
        }
    }(std::make_index_sequence<K>{});
}

}  // namespace kernels
}  // namespace gflow
