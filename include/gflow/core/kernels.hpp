// gflow/core/kernels.hpp: the loops every term is made of, with static sizes so that the
// compiler unrolls and vectorises them. Each forward kernel has its backward beside it.
// Convention (all of gflow): a backward ACCUMULATES into its gradient outputs (`+=`); the owner
// of a gradient buffer zeroes it once before the first consumer runs.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>

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

// __builtin_shufflevector (vectors of any width rearranged in registers), and unrolling by pragma
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define GFLOW_HAS_SHUFFLEVECTOR 1
#define GFLOW_UNROLL GFLOW_PRAGMA(GCC unroll 16)
#else
#define GFLOW_HAS_SHUFFLEVECTOR 0
#define GFLOW_UNROLL
#endif

// out = the low half of v + its high half (Max: the larger of the two), lane by lane: one step of a
// reduction by halving. Vectors by reference only: GCC passes and returns a vector wider than the
// target's registers differently with and without AVX or AVX-512 (-Wpsabi).
template <bool Max, class S, int L>
inline void fold_halves(const lanes<S, L>& v, lanes<S, L / 2>& out) {
    lanes<S, L / 2> low, high;
#if GFLOW_HAS_SHUFFLEVECTOR
    [&]<std::size_t... J>(std::index_sequence<J...>) {
        low = __builtin_shufflevector(v, v, int(J)...);
        high = __builtin_shufflevector(v, v, int(J + L / 2)...);
    }(std::make_index_sequence<L / 2>{});
#else
    std::memcpy(&low, &v, sizeof low);
    std::memcpy(&high, reinterpret_cast<const char*>(&v) + sizeof low, sizeof high);
#endif
    if constexpr (Max) out = high > low ? high : low;
    else out = low + high;
}

// Horizontal sum (Max: maximum) by halving: each step is one extract and one vector operation,
// log2(L) steps, where a lane-by-lane sum would be a chain of L dependent scalar adds. The halves
// are shuffles, in registers (through memcpy, GCC 12 kept the accumulator of the loop that formed
// v in memory: a store and a reload a vector).
template <bool Max, class S, int L>
inline S horizontal_fold(const lanes<S, L>& v) {
    if constexpr (L == 1) {
        return v[0];
    } else {
        lanes<S, L / 2> half;
        fold_halves<Max, S, L>(v, half);
        return horizontal_fold<Max, S, L / 2>(half);
    }
}
template <class S, int L>
inline S horizontal_sum(const lanes<S, L>& v) { return horizontal_fold<false, S, L>(v); }
template <class S, int L>
inline S horizontal_max(const lanes<S, L>& v) { return horizontal_fold<true, S, L>(v); }

// out (+)= Σ_b parts[b] over `count` arrays of `size` values (parts[b] at parts + b size): each
// value summed in the order b = 0, 1, ..., count - 1, the values split in chunks over the threads,
// so the sums are the same at any thread count (a batch's per-document gradients).
template <bool Accumulate, class S>
inline void sum_in_order(S* out, const S* parts, int count, std::size_t size) {
    constexpr std::size_t chunk = 4096;
    const int chunks = int((size + chunk - 1) / chunk);
    parallel::for_each(chunks, long(count) * long(size), [=](int c) {
        const std::size_t first = std::size_t(c) * chunk, end = std::min(size, first + chunk);
        for (int b = 0; b < count; ++b) {
            const S* part = parts + std::size_t(b) * size;
            if (b == 0 && !Accumulate) {
                GFLOW_SIMD
                for (std::size_t i = first; i < end; ++i) out[i] = part[i];
            } else {
                GFLOW_SIMD
                for (std::size_t i = first; i < end; ++i) out[i] += part[i];
            }
        }
    });
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
    // dW by blocks of whole rows where that makes 4 tasks or more; a shorter dW by tiles of half as
    // many rows and weight_column_block columns, so that [64][64] is two tasks and [64][256] eight
    // (measured, bench/products on 2 threads: the width-64 models' products 28.5 -> 25.9 ms a step,
    // width 128 99 -> 95 (Grassmann) and 90 -> 80 (attention); at width 256, where every dW has
    // 4 blocks of rows or more, tiles were 5 % slower)
    // One block of rows (a document's step under step_schedule::by_document, which runs on one
    // thread): dW in one call. Each call packs its x [n][cols] anew for the BLAS, so 16 blocks of
    // 64 rows of mlp_fc1's [1024][256] packed the same x 16 times; one call packs it once.
    if (n <= blas::row_block) {
        blas::gemm(true, false, Out, In, n, dy, Out, x, In, S(1), dW, In);
        return;
    }
    constexpr bool tall = Out >= 4 * blas::weight_row_block;
    constexpr int rows_block = tall ? blas::weight_row_block : blas::weight_row_block / 2;
    constexpr int cols_block = tall ? In : blas::weight_column_block;
    constexpr int row_tiles = (Out + rows_block - 1) / rows_block, col_tiles = (In + cols_block - 1) / cols_block;
    parallel::for_each(row_tiles * col_tiles, work, [=](int b) {
        const int first = b / col_tiles * rows_block, rows = std::min(rows_block, Out - first);
        const int col = b % col_tiles * cols_block, cols = std::min(cols_block, In - col);
        blas::gemm(true, false, rows, cols, n, dy + first, Out, x + col, In, S(1), dW + long(first) * In + col, In);
    });
}

// ---- small products on gflow's own loops ------------------------------------------------------
// A product y = W x of a small matrix (the names model's: [4][16], [16][6], [16][16], [64][16],
// [16][64], [27][16]) does too little work per row for a dot product per output: each of those is
// one or two vector multiplies and then a horizontal sum of log2(lanes) shuffles and adds, and the
// sums are most of the time. So the forward copies W, transposed, into a block on the stack
// ([In][Out] padded to whole vectors, by tiles transposed in registers) and forms each row of y as
// whole vectors of outputs: y[t][o0:o0+L] = sum_i x[t][i] Wᵀ[i][o0:o0+L], broadcast multiply-adds
// into registers, a block of rows at a time sharing each load of Wᵀ. No horizontal sum is left.
// The backward has that shape already (dx[t] += dy[t][o] W[o], dW[o] += dy[t][o] x[t]), and runs
// as two passes that keep their sums in registers: dx by blocks of rows t, dW by blocks of rows o,
// each summing over o (resp. t) in order.
// Against dot products per output (forward) and one pass updating dW and dx by turns (backward),
// this made the names model's training step 1.3-1.4x faster (AMD Zen 4, one core, f32 and f64,
// both mixers; bench/names_fused).
// The order of every sum is fixed by the shape (over i, o or t in order, in SP interleaved partial
// sums when there are many terms), and the rows are cut into tasks of rows_per_task rows, and
// blocks within a task, the same way whatever the thread count: the results do not depend on it.
// (A row decoded alone, by dot products below min_rows_transposed rows, may differ in the last
// bits from the same row in a longer sequence; so may rows in blocks of different sizes, where the
// compiler fuses a multiply and an add in one block and not in another.)
namespace detail {

constexpr int pow2_at_least(int n) {
    int p = 1;
    while (p < n) p *= 2;
    return p;
}
// The largest power of two <= cap that divides n.
constexpr int pow2_dividing(int n, int cap) {
    int p = 1;
    while (2 * p <= cap && n % (2 * p) == 0) p *= 2;
    return p;
}
constexpr int round_up(int n, int m) { return (n + m - 1) / m * m; }

// How a small product [Out][In] of S is laid out and blocked.
template <class S, int Out, int In>
struct small_shape {
    static constexpr int R = simd::register_lanes<S>;
    static constexpr bool vector = (std::is_same_v<S, float> || std::is_same_v<S, double>) && R > 1;
    // register accumulators a block aims at (AVX-512 has 32 vector registers, others 16)
    static constexpr int accumulators = simd::register_bytes >= 64 ? 16 : 8;
    // forward: outputs in vectors of Lo lanes (no wider than Out needs), NV of them per row
    static constexpr int Lo = std::min(R, pow2_at_least(Out));
    static constexpr int NV = (Out + Lo - 1) / Lo;
    // Wᵀ is transposed by tiles of Lt x Lt: Lt divides In (whole rows of W in a tile) and is no
    // wider than the outputs need
    static constexpr int Lt = std::min(pow2_dividing(In, R), pow2_at_least(Out));
    static constexpr int OutP = round_up(Out, std::max(Lo, Lt));   // a row of Wᵀ
    // the transposed weights go on the stack: small matrices only
    static constexpr bool transposed = vector && GFLOW_HAS_SHUFFLEVECTOR &&
                                       long(In) * OutP * long(sizeof(S)) <= 16384;
    // backward: rows of In in vectors of Li lanes (Li divides In), NI of them
    static constexpr int Li = pow2_dividing(In, R);
    static constexpr int NI = In / Li;
    // A sum of many terms (over In in the forward, over Out in the input gradient) runs as SP
    // interleaved partial sums (term j into partial j mod SP), added pairwise at the end: chains
    // of at most 16 dependent multiply-adds, so that a block of few rows is not bound by their
    // latency. SP is fixed by the shape: every row of y or dx sums in the same order.
    static constexpr int SPf = pow2_dividing(In, std::clamp(In / 16, 1, 4));
    static constexpr int SPb = pow2_dividing(Out, std::clamp(Out / 16, 1, 4));
};

// Accumulator blocks: KG vectors of a row, TB rows, SP partial sums (KG * TB * SP <= accumulators).
template <int NV, int Acc>
constexpr int group_of() { return std::min(NV, Acc); }
template <int KG, int Acc>
constexpr int rows_of() { return std::max(1, std::min(8, Acc / KG)); }

// p[0] + ... + p[N-1], added pairwise (N a power of two).
template <int N, class V>
inline V tree_sum(const V* p) {
    static_assert(N > 0 && (N & (N - 1)) == 0);
    if constexpr (N == 1) return p[0];
    else return tree_sum<N / 2>(p) + tree_sum<N / 2>(p + N / 2);
}

template <class V, class S>
inline V load(const S* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <class S, class V>
inline void store(S* p, const V& v) { std::memcpy(p, &v, sizeof v); }

#if GFLOW_HAS_SHUFFLEVECTOR
// An L x L tile transposed in registers: log2(L) stages of two-vector shuffles, stage B exchanging
// bit B of the row index with bit B of the column index.
template <int L, int B, bool High>
constexpr std::array<int, L> exchange_mask() {
    std::array<int, L> m{};
    for (int j = 0; j < L; ++j) {
        const bool bit = (j & B) != 0;
        m[j] = High ? (bit ? L + j : j + B) : (bit ? L + j - B : j);
    }
    return m;
}
// (No function takes or returns a row by value: the Plücker rows are two registers wide, and GCC
// passes such a vector differently with and without wider registers (-Wpsabi).)
template <int B, int L, class V>
inline void transpose_stages(V (&r)[L]) {
    if constexpr (B < L) {
        [&]<std::size_t... J>(std::index_sequence<J...>) {
            constexpr auto low = exchange_mask<L, B, false>(), high = exchange_mask<L, B, true>();
            GFLOW_UNROLL
            for (int i = 0; i < L; ++i)
                if ((i & B) == 0) {
                    const V a = r[i], b = r[i + B];
                    r[i] = __builtin_shufflevector(a, b, low[J]...);
                    r[i + B] = __builtin_shufflevector(a, b, high[J]...);
                }
        }(std::make_index_sequence<L>{});
        transpose_stages<2 * B>(r);
    }
}

// out[j] = Σ of the lanes of rows[j], for L rows of L lanes (L a power of two; rows is overwritten).
// log2(L) stages, each adding the two halves of every segment of a pair of vectors: at segment
// length g there are g vectors, vector m holding g segments' partial sums (L/g of them) in order, and
// the stage leaves g/2 vectors of segments half as long. Half the shuffles of a transpose and its sum.
template <int L, int G>
constexpr std::array<int, L> halves_mask(bool second) {
    std::array<int, L> m{};
    const int half = G / 2, per = L / G;   // segments of G lanes per vector before the stage
    for (int lane = 0; lane < L; ++lane) {
        const int q = lane / half, o = lane % half + (second ? half : 0);
        m[lane] = q < per ? q * G + o : L + (q - per) * G + o;
    }
    return m;
}
template <int G = 0, int L, class V>
inline void row_sums(V (&rows)[L], V& out) {
    constexpr int g = G == 0 ? L : G;   // segment length of this stage
    if constexpr (g == 1) {
        out = rows[0];
    } else {
        [&]<std::size_t... J>(std::index_sequence<J...>) {
            constexpr auto first = halves_mask<L, g>(false), second = halves_mask<L, g>(true);
            GFLOW_UNROLL
            for (int m = 0; m < g / 2; ++m) {   // g vectors at this stage: L, L/2, ..., 2
                const V a = rows[2 * m], b = rows[2 * m + 1];
                rows[m] = __builtin_shufflevector(a, b, first[J]...) + __builtin_shufflevector(a, b, second[J]...);
            }
        }(std::make_index_sequence<L>{});
        row_sums<g / 2>(rows, out);
    }
}

// Wt[i][o] = W[o][i] for o < Out, 0 for Out <= o < OutP.   W: [Out][In], Wt: [In][OutP].
template <int Out, int In, class S>
inline void transpose_weights(const S* __restrict W, S* __restrict Wt) {
    using shape = small_shape<S, Out, In>;
    constexpr int L = shape::Lt, OutP = shape::OutP;
    using V = lanes<S, L>;
    for (int o0 = 0; o0 < OutP; o0 += L)
        for (int i0 = 0; i0 < In; i0 += L) {
            V r[L];
            GFLOW_UNROLL
            for (int k = 0; k < L; ++k) r[k] = o0 + k < Out ? load<V>(W + (o0 + k) * In + i0) : V{};
            if constexpr (L > 1) transpose_stages<1>(r);
            GFLOW_UNROLL
            for (int k = 0; k < L; ++k) store(Wt + (i0 + k) * OutP + o0, r[k]);
        }
}

#endif

// Calls block.template operator()<B>(start) over rows [first, end): blocks of B = TB rows, then
// what is left by blocks of TB/2, TB/4, ..., 1.
template <int TB, class Block>
inline void for_blocks(int first, int end, const Block& block) {
    int t = first;
    for (; t + TB <= end; t += TB) block.template operator()<TB>(t);
    if constexpr (TB > 1)
        if (t < end) for_blocks<TB / 2>(t, end, block);
}

// For each group of KG vectors of a row of NV (KG = as many as the accumulators allow, the last
// group what is left), f.template operator()<KG>(k0).
template <int NV, int Acc, class F>
inline void for_groups(const F& f) {
    constexpr int KG = group_of<NV, Acc>();
    for (int k0 = 0; k0 + KG <= NV; k0 += KG) f.template operator()<KG>(k0);
    if constexpr (NV % KG != 0) f.template operator()<NV % KG>(NV - NV % KG);
}

// Rows [0, TB) of y (+)= W x from Wt, output vectors [k0, k0 + KG), SP partial sums over i.
template <int TB, int KG, int SP, int Out, int In, bool Accumulate, class S>
inline void forward_block(const S* __restrict Wt, const S* __restrict x, S* __restrict y, int k0) {
    using shape = small_shape<S, Out, In>;
    constexpr int L = shape::Lo, OutP = shape::OutP;
    using V = lanes<S, L>;
    V acc[TB][KG][SP];
    GFLOW_UNROLL
    for (int b = 0; b < TB; ++b)
        GFLOW_UNROLL
        for (int k = 0; k < KG; ++k)
            GFLOW_UNROLL
            for (int j = 0; j < SP; ++j) acc[b][k][j] = V{};
    for (int i0 = 0; i0 < In; i0 += SP)
        GFLOW_UNROLL
        for (int j = 0; j < SP; ++j) {
            const int i = i0 + j;
            V w[KG];
            GFLOW_UNROLL
            for (int k = 0; k < KG; ++k) w[k] = load<V>(Wt + i * OutP + (k0 + k) * L);
            GFLOW_UNROLL
            for (int b = 0; b < TB; ++b) {
                const S xb = x[b * In + i];
                GFLOW_UNROLL
                for (int k = 0; k < KG; ++k) acc[b][k][j] += xb * w[k];
            }
        }
    GFLOW_UNROLL
    for (int b = 0; b < TB; ++b)
        GFLOW_UNROLL
        for (int k = 0; k < KG; ++k) {
            const V sum = tree_sum<SP>(acc[b][k]);
            S* out = y + b * Out + (k0 + k) * L;
            constexpr int tail = Out % L;   // the outputs in the last vector, if it is not whole
            if (tail == 0 || k0 + k + 1 < shape::NV) {
                if constexpr (Accumulate) store(out, load<V>(out) + sum);
                else store(out, sum);
            } else {
                S last[L];
                store(last, sum);
                GFLOW_UNROLL
                for (int j = 0; j < tail; ++j) out[j] = Accumulate ? out[j] + last[j] : last[j];
            }
        }
}

template <int Out, int In, bool Accumulate, class S>
inline void forward_range(const S* Wt, const S* x, S* y, int first, int end) {
    using shape = small_shape<S, Out, In>;
    constexpr int SP = shape::SPf;
    for_groups<shape::NV, shape::accumulators / SP>([&]<int KG>(int k0) {
        for_blocks<rows_of<KG * SP, shape::accumulators>()>(first, end, [&]<int TB>(int t) {
            forward_block<TB, KG, SP, Out, In, Accumulate>(Wt, x + t * In, y + t * Out, k0);
        });
    });
}

// Rows a task of a parallel loop takes.
inline constexpr int rows_per_task = 16;

// The transposed copy costs about what a few rows of dot products do: below this many rows (one,
// decoding a token), the forward keeps the dot products. Chosen by the whole call's row count, so
// the same for any number of threads.
inline constexpr int min_rows_transposed = 4;

// y (+)= W x for the small shapes (small_shape::transposed).
template <int Out, int In, bool Accumulate, class S>
inline void small_forward(const S* __restrict W, const S* __restrict x, S* __restrict y, int n) {
#if GFLOW_HAS_SHUFFLEVECTOR
    using shape = small_shape<S, Out, In>;
    alignas(64) S wt[In * shape::OutP];
    transpose_weights<Out, In>(W, wt);
    const S* Wt = wt;
    parallel::for_each((n + rows_per_task - 1) / rows_per_task, long(n) * Out * In, [=](int task) {
        const int first = task * rows_per_task;
        forward_range<Out, In, Accumulate>(Wt, x, y, first, std::min(n, first + rows_per_task));
    });
#else
    (void)W, (void)x, (void)y, (void)n;
#endif
}

// dx[t] += sum_o dy[t][o] W[o] for rows [0, TB), row vectors [k0, k0 + KG) of In, SP partial sums
// over o (the first starting from dx).
template <int TB, int KG, int SP, int Out, int In, class S>
inline void input_grad_block(const S* __restrict W, const S* __restrict dy, S* __restrict dx, int k0) {
    using shape = small_shape<S, Out, In>;
    constexpr int L = shape::Li;
    using V = lanes<S, L>;
    V acc[TB][KG][SP];
    GFLOW_UNROLL
    for (int b = 0; b < TB; ++b)
        GFLOW_UNROLL
        for (int k = 0; k < KG; ++k) {
            acc[b][k][0] = load<V>(dx + b * In + (k0 + k) * L);
            GFLOW_UNROLL
            for (int j = 1; j < SP; ++j) acc[b][k][j] = V{};
        }
    for (int o0 = 0; o0 < Out; o0 += SP)
        GFLOW_UNROLL
        for (int j = 0; j < SP; ++j) {
            const int o = o0 + j;
            V w[KG];
            GFLOW_UNROLL
            for (int k = 0; k < KG; ++k) w[k] = load<V>(W + o * In + (k0 + k) * L);
            GFLOW_UNROLL
            for (int b = 0; b < TB; ++b) {
                const S g = dy[b * Out + o];
                GFLOW_UNROLL
                for (int k = 0; k < KG; ++k) acc[b][k][j] += g * w[k];
            }
        }
    GFLOW_UNROLL
    for (int b = 0; b < TB; ++b)
        GFLOW_UNROLL
        for (int k = 0; k < KG; ++k) store(dx + b * In + (k0 + k) * L, tree_sum<SP>(acc[b][k]));
}
template <int Out, int In, class S>
inline void input_grad_range(const S* W, const S* dy, S* dx, int first, int end) {
    using shape = small_shape<S, Out, In>;
    constexpr int SP = shape::SPb;
    for_groups<shape::NI, shape::accumulators / SP>([&]<int KG>(int k0) {
        for_blocks<rows_of<KG * SP, shape::accumulators>()>(first, end, [&]<int TB>(int t) {
            input_grad_block<TB, KG, SP, Out, In>(W, dy + t * Out, dx + t * In, k0);
        });
    });
}

// dW[o] += sum_t dy[t][o] x[t] for rows [0, OB) of W, row vectors [k0, k0 + KG), summing over t in
// order.
template <int OB, int KG, int Out, int In, class S>
inline void weight_grad_block(S* __restrict dW, const S* __restrict x, const S* __restrict dy, int n, int k0) {
    using shape = small_shape<S, Out, In>;
    constexpr int L = shape::Li;
    using V = lanes<S, L>;
    V acc[OB][KG];
    GFLOW_UNROLL
    for (int b = 0; b < OB; ++b)
        GFLOW_UNROLL
        for (int k = 0; k < KG; ++k) acc[b][k] = load<V>(dW + b * In + (k0 + k) * L);
    for (int t = 0; t < n; ++t) {
        V xt[KG];
        GFLOW_UNROLL
        for (int k = 0; k < KG; ++k) xt[k] = load<V>(x + t * In + (k0 + k) * L);
        GFLOW_UNROLL
        for (int b = 0; b < OB; ++b) {
            const S g = dy[t * Out + b];
            GFLOW_UNROLL
            for (int k = 0; k < KG; ++k) acc[b][k] += g * xt[k];
        }
    }
    GFLOW_UNROLL
    for (int b = 0; b < OB; ++b)
        GFLOW_UNROLL
        for (int k = 0; k < KG; ++k) store(dW + b * In + (k0 + k) * L, acc[b][k]);
}
template <int Out, int In, class S>
inline void weight_grad_range(S* dW, const S* x, const S* dy, int n, int first, int end) {
    using shape = small_shape<S, Out, In>;
    for_groups<shape::NI, shape::accumulators>([&]<int KG>(int k0) {
        for_blocks<rows_of<KG, shape::accumulators>()>(first, end, [&]<int OB>(int o) {
            weight_grad_block<OB, KG, Out, In>(dW + o * In, x, dy + o, n, k0);
        });
    });
}

}  // namespace detail

// y[t] = W x[t] for t < n.   W: [Out][In], x: [n][In], y: [n][Out].
// Rows are independent: spread over the threads (core/parallel.hpp). Small shapes from
// min_rows_transposed rows on: the transposed weights (above); else a dot product per output.
template <int Out, int In, class S>
inline void matvec_rows(const S* __restrict W, const S* __restrict x, S* __restrict y, int n) {
    if constexpr (blas::supports<S>)
        if (blas::worth(n, Out, In)) return blas_forward<Out, In, false>(W, x, y, n);
    if constexpr (detail::small_shape<S, Out, In>::transposed)
        if (n >= detail::min_rows_transposed) return detail::small_forward<Out, In, false>(W, x, y, n);
    parallel::for_each(n, long(n) * Out * In, [=](int t) {
        const S* xt = x + t * In;
        S* yt = y + t * Out;
        for (int o = 0; o < Out; ++o) yt[o] = dot<In>(W + o * In, xt);
    });
}

// Backward of matvec_rows: dW += dy x^T, and (if dx) dx += W^T dy.
// Two passes: dx by rows t, dW by rows o (each summing over t in order), each spread over the
// threads by blocks of rows when the product is large enough (above): the same code, cut the same
// way, for any thread count. Other types (long double): on one thread, one pass over (t, o)
// updates a row of dW and all of dx[t]; on several, the two passes; each scalar receives the same
// additions in the same order either way.
template <int Out, int In, bool WithInputGrad = true, class S>
inline void matvec_rows_backward(const S* __restrict W, S* __restrict dW, const S* __restrict x,
                                 const S* __restrict dy, S* __restrict dx, int n) {
    if constexpr (blas::supports<S>)
        if (blas::worth(n, Out, In)) return blas_backward<Out, In, WithInputGrad>(W, dW, x, dy, dx, n);
    const long work = long(n) * Out * In;
    if constexpr (detail::small_shape<S, Out, In>::vector) {
        constexpr int block = detail::rows_per_task;
        if constexpr (WithInputGrad)
            parallel::for_each((n + block - 1) / block, work, [=](int task) {
                const int first = task * block;
                detail::input_grad_range<Out, In>(W, dy, dx, first, std::min(n, first + block));
            });
        parallel::for_each((Out + block - 1) / block, work, [=](int task) {
            const int first = task * block;
            detail::weight_grad_range<Out, In>(dW, x, dy, n, first, std::min(Out, first + block));
        });
        return;
    }
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
    if constexpr (detail::small_shape<S, Out, In>::transposed)
        if (n >= detail::min_rows_transposed) return detail::small_forward<Out, In, true>(W, x, y, n);
    parallel::for_each(n, long(n) * Out * In, [=](int t) {
        const S* xt = x + t * In;
        S* yt = y + t * Out;
        for (int o = 0; o < Out; ++o) yt[o] += dot<In>(W + o * In, xt);
    });
}
}  // namespace gflow::kernels
