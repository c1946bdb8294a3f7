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

// f_k(... f_2(f_1(x))): a run of elementwise functions as one (terms/elementwise.hpp fuses
// adjacent elementwise terms of a chain into it). Each stage's result is rounded to the
// argument's type, as the buffer between two unfused terms would round it, so the forward is the
// unfused one bit for bit; on duals the stages chain the tangents, so the backward is exact.
template <elementwise_function... Fs>
struct composed {
    template <class X>
    constexpr X operator()(X x) const {
        ((x = static_cast<X>(Fs{}(x))), ...);
        return x;
    }
};

namespace kernels {

// y[i] = f(x_0[i], ..., x_{K-1}[i]) for i < count.
template <class F, class S, class... In>
inline void map_forward(int count, S* __restrict y, const In* __restrict... x) {
    const F f{};
    GFLOW_SIMD
    for (int i = 0; i < count; ++i) y[i] = static_cast<S>(f(x[i]...));
}

// dx[k][i] += dy[i] * df/dx_k (x[0][i], ..., x[K-1][i]) for i < count; a null dx[k] is skipped.
template <class F, int K, class S>
inline void map_backward(int count, const S* __restrict dy, std::array<const S*, K> x,
                         std::array<S*, K> dx) {
    const F f{};
    [&]<std::size_t... k>(std::index_sequence<k...>) {
        for (int i = 0; i < count; ++i) {
            // input k carries the unit tangent e_k
            const auto r = f(dual<S, K>{x[k][i], [] {
                std::array<S, K> e{};
                e[k] = S(1);
                return e;
            }()}...);
            ((dx[k] ? (void)(dx[k][i] += dy[i] * r.d[k]) : (void)0), ...);
        }
    }(std::make_index_sequence<K>{});
}

}  // namespace kernels
}  // namespace gflow
