// gflow/core/kernels.hpp: the loops every term is made of, with static sizes so that the
// compiler unrolls and vectorises them. Each forward kernel has its backward beside it.
// Convention (all of gflow): a backward ACCUMULATES into its gradient outputs (`+=`); the owner
// of a gradient buffer zeroes it once before the first consumer runs.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include <gflow/core/blas.hpp>
#include <gflow/core/parallel.hpp>
#include <gflow/core/simd.hpp>

#if defined(_OPENMP) || defined(__clang__) || defined(__GNUC__)
#define GFLOW_PRAGMA(x) _Pragma(#x)
#else
#define GFLOW_PRAGMA(x)
#endif
// `omp simd` needs only -fopenmp-simd (no OpenMP runtime); it lets a dot product vectorise
// without -ffast-math. The reduction variable is always called `acc`.
#define GFLOW_SIMD GFLOW_PRAGMA(omp simd)
#define GFLOW_SIMD_SUM GFLOW_PRAGMA(omp simd reduction(+ : acc))

namespace gflow::kernels {

template <class S>
inline void zero(S* p, int count) { std::memset(p, 0, sizeof(S) * static_cast<std::size_t>(count)); }

// A vector of L lanes of S (GCC and Clang vector extensions: portable, no intrinsics).
template <class S, int L>
using lanes [[gnu::vector_size(L * sizeof(S))]] = S;

// Horizontal sum by halving: each step is one extract and one vector add, log2(L) steps,
// where a lane-by-lane sum would be a chain of L dependent scalar adds.
template <class S, int L>
inline S horizontal_sum(lanes<S, L> v) {
    if constexpr (L == 1) {
        return v[0];
    } else {
        lanes<S, L / 2> low, high;
        std::memcpy(&low, &v, sizeof low);
        std::memcpy(&high, reinterpret_cast<const char*>(&v) + sizeof low, sizeof high);
        return horizontal_sum<S, L / 2>(low + high);
    }
}

// sum_i a[i] b[i] for a static length N: a register of partial sums, then one horizontal sum.
template <int N, class S>
inline S dot(const S* __restrict a, const S* __restrict b) {
    // Vector lanes for float and double, as many as one register of the compile target holds
    // (simd.hpp); other types (long double in gradient checks) stay scalar.
    constexpr bool vector = std::is_same_v<S, float> || std::is_same_v<S, double>;
    constexpr int L = vector ? simd::lanes_for<S, N>() : 1;
    if constexpr (L == 1) {
        S acc = 0;
        GFLOW_SIMD_SUM
        for (int i = 0; i < N; ++i) acc += a[i] * b[i];
        return acc;
    } else {
        lanes<S, L> acc{};
        for (int i = 0; i < N; i += L) {
            lanes<S, L> x, y;
            std::memcpy(&x, a + i, sizeof x);
            std::memcpy(&y, b + i, sizeof y);
            acc += x * y;
        }
        return horizontal_sum<S, L>(acc);
    }
}

// The products handed to the BLAS (core/blas.hpp), in blocks of rows of a fixed size spread over
// the threads. y = x Wᵀ (+ y when Accumulate).   W: [Out][In], x: [n][In], y: [n][Out].
template <int Out, int In, bool Accumulate, class S>
inline void blas_forward(const S* W, const S* x, S* y, int n) {
    constexpr int block = blas::row_block;
    parallel::for_each((n + block - 1) / block, long(n) * Out * In, [=](int b) {
        const int first = b * block, rows = std::min(block, n - first);
        blas::gemm(false, true, rows, Out, In, x + long(first) * In, In, W, In, S(Accumulate ? 1 : 0),
                   y + long(first) * Out, Out);
    });
}
// dx += dy W (blocks of rows), then dW += dyᵀ x (blocks of W's rows, each summing over all n rows
// in the BLAS's fixed order).   dy: [n][Out], dx: [n][In], dW: [Out][In].
template <int Out, int In, bool WithInputGrad, class S>
inline void blas_backward(const S* W, S* dW, const S* x, const S* dy, S* dx, int n) {
    const long work = long(n) * Out * In;
    if constexpr (WithInputGrad) {
        constexpr int block = blas::row_block;
        parallel::for_each((n + block - 1) / block, work, [=](int b) {
            const int first = b * block, rows = std::min(block, n - first);
            blas::gemm(false, false, rows, In, Out, dy + long(first) * Out, Out, W, In, S(1),
                       dx + long(first) * In, In);
        });
    }
    constexpr int block = blas::weight_row_block;
    parallel::for_each((Out + block - 1) / block, work, [=](int b) {
        const int first = b * block, rows = std::min(block, Out - first);
        blas::gemm(true, false, rows, In, n, dy + first, Out, x, In, S(1), dW + long(first) * In, In);
    });
}

// y[t] = W x[t] for t < n.   W: [Out][In], x: [n][In], y: [n][Out].
// Rows are independent: spread over the threads by row (core/parallel.hpp).
template <int Out, int In, class S>
inline void matvec_rows(const S* __restrict W, const S* __restrict x, S* __restrict y, int n) {
    if constexpr (blas::supports<S>)
        if (blas::worth(n, Out, In)) return blas_forward<Out, In, false>(W, x, y, n);
    parallel::for_each(n, long(n) * Out * In, [=](int t) {
        const S* xt = x + t * In;
        S* yt = y + t * Out;
        for (int o = 0; o < Out; ++o) yt[o] = dot<In>(W + o * In, xt);
    });
}

// Backward of matvec_rows: dW += dy x^T, and (if dx) dx += W^T dy.
// On one thread, one pass over (t, o) updates a row of dW and all of dx[t]: both are unit-stride.
// On several, two passes: dx by rows t, dW by rows o (each summing over t in order). Each scalar
// receives the same additions in the same order either way, so the results are identical.
template <int Out, int In, bool WithInputGrad = true, class S>
inline void matvec_rows_backward(const S* __restrict W, S* __restrict dW, const S* __restrict x,
                                 const S* __restrict dy, S* __restrict dx, int n) {
    if constexpr (blas::supports<S>)
        if (blas::worth(n, Out, In)) return blas_backward<Out, In, WithInputGrad>(W, dW, x, dy, dx, n);
    const long work = long(n) * Out * In;
    if (parallel::worth(work)) {
        if constexpr (WithInputGrad)
            parallel::for_each(n, work, [=](int t) {
                const S* dyt = dy + t * Out;
                S* dxt = dx + t * In;
                for (int o = 0; o < Out; ++o) {
                    const S g = dyt[o];
                    const S* w = W + o * In;
                    GFLOW_SIMD
                    for (int i = 0; i < In; ++i) dxt[i] += g * w[i];
                }
            });
        parallel::for_each(Out, work, [=](int o) {
            S* dw = dW + o * In;
            for (int t = 0; t < n; ++t) {
                const S g = dy[t * Out + o];
                const S* xt = x + t * In;
                GFLOW_SIMD
                for (int i = 0; i < In; ++i) dw[i] += g * xt[i];
            }
        });
        return;
    }
    for (int t = 0; t < n; ++t) {
        const S* xt = x + t * In;
        const S* dyt = dy + t * Out;
        S* dxt = WithInputGrad ? dx + t * In : nullptr;
        for (int o = 0; o < Out; ++o) {
            const S g = dyt[o];
            S* dw = dW + o * In;
            const S* w = W + o * In;
            if constexpr (WithInputGrad) {
                GFLOW_SIMD
                for (int i = 0; i < In; ++i) {
                    dw[i] += g * xt[i];
                    dxt[i] += g * w[i];
                }
            } else {
                GFLOW_SIMD
                for (int i = 0; i < In; ++i) dw[i] += g * xt[i];
            }
        }
    }
}

// dst[i] += src[i]
template <int Count, class S>
inline void add_into(S* __restrict dst, const S* __restrict src, int rows) {
    const int total = Count * rows;
    GFLOW_SIMD
    for (int i = 0; i < total; ++i) dst[i] += src[i];
}

}  // namespace gflow::kernels

namespace gflow::kernels {
// y[t] += W x[t] for t < n.   W: [Out][In], x: [n][In], y: [n][Out].
template <int Out, int In, class S>
inline void matvec_rows_add(const S* __restrict W, const S* __restrict x, S* __restrict y, int n) {
    if constexpr (blas::supports<S>)
        if (blas::worth(n, Out, In)) return blas_forward<Out, In, true>(W, x, y, n);
    parallel::for_each(n, long(n) * Out * In, [=](int t) {
        const S* xt = x + t * In;
        S* yt = y + t * Out;
        for (int o = 0; o < Out; ++o) yt[o] += dot<In>(W + o * In, xt);
    });
}
}  // namespace gflow::kernels
