// gflow/core/causal_attention.hpp: one head of causal softmax attention over a whole sequence, on
// gflow's own loops in vector registers (expr/attend.hpp calls it for each head of a long enough
// sequence: the Tiny Shakespeare models'):
//
//   forward   A = softmax(q kᵀ / sqrt(D)) row by row over s <= t;   o = A v
//   backward  G = do vᵀ;  dS = A ⊙ (G - rowsum(A ⊙ G)) / sqrt(D);  dq += dS k;  dv += Aᵀ do;  dk += dSᵀ q
//
// Why not the BLAS: every product here has D (a head's size, 16 or 32) as its inner or outer
// dimension, and a call per block of rows. Through OpenBLAS the width-64 attention model spent
// 27 % of its step in those calls and 12 % more in the softmax's passes over the stored rows.
// Here each block of rows is computed in registers: scores by broadcast multiply-adds against the
// keys transposed once per head (vectors of keys, no horizontal sums), the softmax on the rows
// just written, and the weighted sums of values, a block of rows sharing each load. rowsum(A ⊙ G)
// is do_t · o_t (o_t = Σ_s A_ts v_s), so dS is formed from G in the score blocks' registers and G
// is never stored (as a separate pass over stored G rows, a head's backward took 6 % longer).
//
// Causal by row tiles of `row_tile` rows: the rows [t0, t1) of a tile take the keys s < t1 (the
// scores: s < t1 rounded up to a whole vector, which the softmax leaves out), and A is 0 for
// t < s < t1. dv and dk are summed over t >= s by key blocks that lie inside one row tile, so the
// zeros are all they read above the diagonal, and over t by passes of rows whose lines stay in L1.
// Every sum runs in an order fixed by the shape (over D, or over s or t in order): one thread per
// head, the same results at any thread count.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <gflow/core/exp.hpp>
#include <gflow/core/kernels.hpp>
#include <gflow/core/simd.hpp>

namespace gflow::kernels::causal {

// A sequence goes to these kernels from this many multiply-adds of scores, n² D (below it, the
// names and parens models' 16² x 4 and 64² x 4, the position-by-position loops of expr/attend.hpp
// stay). Tests set it to 0 to run every sequence here.
inline long& min_work() {
    static long value = 1L << 16;
    return value;
}

// How one head of size D in rows of T is blocked, for S.
template <class S, int D, int T>
struct head_shape {
    static constexpr int L = simd::register_lanes<S>;    // keys in one vector of scores
    static constexpr int Ld = simd::lanes_for<S, D>();   // lanes of a vector of a head's row
    static constexpr int ND = D / Ld;                    // vectors in a head's row
    static constexpr int accumulators = simd::register_bytes >= 64 ? 16 : 8;
    // Float and double in vector registers, and rows of whole vectors of keys (T a multiple of L,
    // so the scores of a tile, rounded up to whole vectors, stay in their row).
    static constexpr bool available =
        (std::is_same_v<S, float> || std::is_same_v<S, double>) && L > 1 && T % L == 0;
    static constexpr int row_tile = 8;
    // scores: blocks of score_rows rows x score_groups vectors of keys (8 x 2 on AVX-512: a load of
    // keys serves 8 rows; 4 x 4 made a head's forward at n = 256, D = 16 46 µs, 8 x 2 39 µs)
    static constexpr int score_rows = 8;
    static constexpr int score_groups = std::max(1, accumulators / score_rows);
    // weighted sums: rows of a block, and vectors of a head's row a pass takes. Rows first: each
    // load of x serves them all, where a block of fewer rows and more vectors made GCC reload x for
    // every row (AVX2; the head's forward in build/bench/mixer_kernels: docs/design.md)
    static constexpr int sum_rows = std::min(row_tile, accumulators);
    static constexpr int sum_groups = std::max(1, std::min(ND, accumulators / sum_rows));
    // dv and dk: keys of a block (a power of two dividing row_tile), vectors of a pass
    static constexpr int key_groups = std::min(ND, accumulators / 2);
    static constexpr int key_block = detail::pow2_dividing(row_tile, std::max(1, accumulators / (2 * key_groups)));
    // ... over the rows t in passes of key_rows, so that a pass's lines of A, dS, do and q (a line of
    // a row's keys in each of A and dS, and its D values of do and q) stay in L1 for every key block
    // of the pass after the first. Down the whole column, each key block read them again from L2 (at
    // n = 256 on AVX2, 64 KB a block against a 32 KB L1). A pass's lines in at most 8 KB: a head's
    // backward on AVX2 (Zen 2), f32, d = 32: 225-238 µs down the whole column, 180-187 µs in passes
    // of 16 KB, 159-174 in 8 KB, 168-175 in 4 KB (bench/mixer_kernels, medians of 21, 3-6 runs each).
    static constexpr int key_row_bytes = 2 * 64 + 2 * D * int(sizeof(S));
    static constexpr int key_rows = [] {
        int rows = row_tile;
        while (2 * rows * key_row_bytes <= 8192) rows *= 2;
        return rows;
    }();
    // Where a vector of keys lies inside one row tile (L <= row_tile: AVX2 and narrower, f64 on
    // AVX-512), dv and dk are summed with the keys in lanes instead (`key_vector`): dvᵀ[i][s0:s0+L]
    // += do[t][i] A[t][s0:s0+L], a vector load of A's row and a broadcast of do per multiply-add,
    // key_values values of i at a time, then the L x L tiles transposed into rows of dv. The blocks
    // above read A and dS a number at a time, with GCC reloading do and q for each key (the head's
    // backward in build/bench/mixer_kernels, before and after: docs/design.md).
    static constexpr bool keys_in_lanes =
        GFLOW_HAS_SHUFFLEVECTOR && available && L <= row_tile && row_tile % L == 0 && D % L == 0;
    static constexpr int key_values = std::min(D, std::max(L, accumulators));
    static constexpr int key_pass_rows = 32;   // rows of a pass: a pass's lines of A and dS stay in L1
};

template <class S, int D, int T>
inline bool worth(int n) {
    return head_shape<S, D, T>::available && long(n) * n * D >= min_work();
}

namespace detail {
using kernels::detail::load;
using kernels::detail::store;

// xt[i][s] = x[s][i] for s < n, 0 for n <= s < n rounded up to whole vectors.   x: [n][D] in rows
// of stride W, xt: [D][T].
// Whole L x L tiles in registers (kernels::detail::transpose_stages), the last rows one by one: a
// head's keys at n = 256, D = 16 took 2.5 µs element by element, a fifteenth of the forward.
template <int D, int W, int T, class S>
inline void transpose_head(const S* __restrict x, int n, S* __restrict xt) {
    constexpr int L = head_shape<S, D, T>::L;
    const int padded = (n + L - 1) / L * L;
    int first = 0;   // rows before it are done
#if GFLOW_HAS_SHUFFLEVECTOR
    if constexpr (D % L == 0) {
        using V = lanes<S, L>;
        for (; first + L <= n; first += L)
            for (int i0 = 0; i0 < D; i0 += L) {
                V tile[L];
                GFLOW_UNROLL
                for (int k = 0; k < L; ++k) tile[k] = load<V>(x + (first + k) * W + i0);
                kernels::detail::transpose_stages<1>(tile);
                GFLOW_UNROLL
                for (int k = 0; k < L; ++k) store(xt + (i0 + k) * T + first, tile[k]);
            }
    }
#endif
    for (int s = first; s < n; ++s)
        for (int i = 0; i < D; ++i) xt[i * T + s] = x[s * W + i];
    for (int i = 0; i < D; ++i)
        for (int s = n; s < padded; ++s) xt[i * T + s] = 0;
}

// out[r][s] = finish(r, s, a_r · b_s) for the TB rows r of a and the keys s of KG vectors from s0
// (finish takes and returns a vector of keys from s). a: rows of stride W; bt: [D][T] (b
// transposed); out: rows of stride T.
template <int TB, int KG, int D, int W, int T, class S, class Finish>
inline void score_block(const S* __restrict a, const S* __restrict bt, int s0, Finish finish, S* __restrict out) {
    constexpr int L = head_shape<S, D, T>::L;
    using V = lanes<S, L>;
    V acc[TB][KG];
    GFLOW_UNROLL
    for (int r = 0; r < TB; ++r)
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) acc[r][g] = V{};
    // not unrolled: unrolled, GCC broadcast every a[r][i] of the block first and kept them on the
    // stack (one head forward at n = 256, D = 16, in a loop: 54 -> 46 µs without)
    GFLOW_PRAGMA(GCC unroll 1)
    for (int i = 0; i < D; ++i) {
        V b[KG];
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) b[g] = load<V>(bt + i * T + s0 + g * L);
        GFLOW_UNROLL
        for (int r = 0; r < TB; ++r) {
            const S x = a[r * W + i];
            GFLOW_UNROLL
            for (int g = 0; g < KG; ++g) acc[r][g] += x * b[g];
        }
    }
    GFLOW_UNROLL
    for (int r = 0; r < TB; ++r)
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) store(out + r * T + s0 + g * L, finish(r, s0 + g * L, acc[r][g]));
}

// Scores of the rows [t0, t1): out[t][s] = finish(t, s, a_t · b_s) for s < t1 rounded up to whole
// vectors (blocks of score_rows rows, each over the keys up to its own last row).
template <int D, int W, int T, class S, class Finish>
inline void scores(const S* a, const S* bt, int t0, int t1, Finish finish, S* out) {
    using shape = head_shape<S, D, T>;
    constexpr int L = shape::L, KG = shape::score_groups;
    kernels::detail::for_blocks<shape::score_rows>(t0, t1, [&]<int TB>(int t) {
        const int vectors = (t + TB + L - 1) / L;
        const auto block_finish = [&](int r, int s, auto x) { return finish(t + r, s, x); };
        int g = 0;
        for (; g + KG <= vectors; g += KG) score_block<TB, KG, D, W, T>(a + t * W, bt, g * L, block_finish, out + t * T);
        for (; g < vectors; ++g) score_block<TB, 1, D, W, T>(a + t * W, bt, g * L, block_finish, out + t * T);
    });
}

// y[r] (+)= Σ_{s < keys} p[r][s] x[s] for the TB rows r, the vectors [k0, k0 + KG) of a head's row.
// p: rows of stride T; x, y: rows of stride W.
template <int TB, int KG, bool Accumulate, int D, int W, int T, class S>
inline void sum_block(const S* __restrict p, const S* __restrict x, int keys, S* __restrict y, int k0) {
    constexpr int Ld = head_shape<S, D, T>::Ld;
    using V = lanes<S, Ld>;
    V acc[TB][KG];
    GFLOW_UNROLL
    for (int r = 0; r < TB; ++r)
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) acc[r][g] = V{};
    for (int s = 0; s < keys; ++s) {
        V v[KG];
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) v[g] = load<V>(x + s * W + (k0 + g) * Ld);
        GFLOW_UNROLL
        for (int r = 0; r < TB; ++r) {
            const S weight = p[r * T + s];
            GFLOW_UNROLL
            for (int g = 0; g < KG; ++g) acc[r][g] += weight * v[g];
        }
    }
    GFLOW_UNROLL
    for (int r = 0; r < TB; ++r)
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) {
            S* out = y + r * W + (k0 + g) * Ld;
            if constexpr (Accumulate) store(out, load<V>(out) + acc[r][g]);
            else store(out, acc[r][g]);
        }
}

// The softmax of row[0, count) in place, and row[count, end) = 0. The row holds finite scores up to
// count rounded up to whole vectors of L (what `scores` writes), so every pass runs over whole
// vectors: the lanes past count are left out of the maximum and set to 0 after exp. (Element by
// element, with the last vector's remainder and the reductions' scalar ends, the softmax took 40 %
// of the forward; the maximum taken in the score blocks' registers instead of this pass was no
// faster.)
template <int D, int T, class S>
[[gnu::noinline]] void softmax(S* row, int count, int end) {   // (inlined, it made the forward slower)
    constexpr int L = head_shape<S, D, T>::L;
    using V = lanes<S, L>;
    using mask = lanes<std::conditional_t<sizeof(S) == 4, std::int32_t, std::int64_t>, L>;
    mask lane{};
    for (int j = 0; j < L; ++j) lane[j] = j;
    const int last = (count - 1) / L * L;   // the last vector's first lane
    const mask in_row = lane < count - last;
    V largest = V{} + row[0];
    for (int s = 0; s < last; s += L) {
        const V x = load<V>(row + s);
        largest = x > largest ? x : largest;
    }
    const V tail = load<V>(row + last);
    largest = (in_row & (tail > largest)) ? tail : largest;
    const S max_score = kernels::horizontal_max<S, L>(largest);
    V sum{};
    for (int s = 0; s < last; s += L) {
        const V e = vexp(load<V>(row + s) - max_score);
        store(row + s, e);
        sum += e;
    }
    const V e = in_row ? vexp(tail - max_score) : V{};
    store(row + last, e);
    sum += e;
    for (int s = last + L; s < end; s += L) store(row + s, V{});
    const V inv = V{} + S(1) / kernels::horizontal_sum<S, L>(sum);
    for (int s = 0; s <= last; s += L) store(row + s, load<V>(row + s) * inv);
}

// Rows [t0, t1) of y (+)= p x over the keys s < t1.
template <bool Accumulate, int D, int W, int T, class S>
inline void weighted_sums(const S* p, const S* x, int t0, int t1, S* y) {
    using shape = head_shape<S, D, T>;
    kernels::detail::for_groups<shape::ND, shape::sum_groups>([&]<int KG>(int k0) {
        kernels::detail::for_blocks<shape::sum_rows>(t0, t1, [&]<int TB>(int t) {
            sum_block<TB, KG, Accumulate, D, W, T>(p + t * T, x, t1, y + t * W, k0);
        });
    });
}

// For the KB keys s of a block from s0: dv[s] += Σ_t A[t][s] do[t] and dk[s] += Σ_t dS[t][s] q[t]
// over the rows max(s0, first) <= t < end, the vectors [k0, k0 + KG) of a head's row.
template <int KB, int KG, int D, int W, int T, class S>
inline void key_block(const S* __restrict A, const S* __restrict dS, const S* __restrict d_o,
                      const S* __restrict q, int s0, int first, int end, S* __restrict dv, S* __restrict dk,
                      int k0) {
    constexpr int Ld = head_shape<S, D, T>::Ld;
    using V = lanes<S, Ld>;
    V acc_v[KB][KG], acc_k[KB][KG];
    GFLOW_UNROLL
    for (int j = 0; j < KB; ++j)
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) acc_v[j][g] = acc_k[j][g] = V{};
    for (int t = std::max(s0, first); t < end; ++t) {
        V dot[KG], qt[KG];
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) {
            dot[g] = load<V>(d_o + t * W + (k0 + g) * Ld);
            qt[g] = load<V>(q + t * W + (k0 + g) * Ld);
        }
        GFLOW_UNROLL
        for (int j = 0; j < KB; ++j) {
            const S a = A[t * T + s0 + j], ds = dS[t * T + s0 + j];
            GFLOW_UNROLL
            for (int g = 0; g < KG; ++g) {
                acc_v[j][g] += a * dot[g];
                acc_k[j][g] += ds * qt[g];
            }
        }
    }
    GFLOW_UNROLL
    for (int j = 0; j < KB; ++j)
        GFLOW_UNROLL
        for (int g = 0; g < KG; ++g) {
            S* v_out = dv + (s0 + j) * W + (k0 + g) * Ld;
            S* k_out = dk + (s0 + j) * W + (k0 + g) * Ld;
            store(v_out, load<V>(v_out) + acc_v[j][g]);
            store(k_out, load<V>(k_out) + acc_k[j][g]);
        }
}

#if GFLOW_HAS_SHUFFLEVECTOR
// For the L keys of the vector at s0: out[s0 + j][i0 + i] += Σ_t P[t][s0 + j] X[t][i0 + i] over the
// rows max(s0, first) <= t < end, for the IC values from i0 (keys s0 + j < n only). P: rows of
// stride T, 0 for t < s within a row tile (a vector of keys lies inside one: L <= row_tile); X, out:
// rows of stride W.
template <int IC, int D, int W, int T, class S>
inline void key_vector(const S* __restrict P, const S* __restrict X, int s0, int first, int end, int n,
                       S* __restrict out, int i0) {
    constexpr int L = head_shape<S, D, T>::L;
    static_assert(IC % L == 0, "key_vector: whole L x L tiles");
    using V = lanes<S, L>;
    V acc[IC];   // acc[i]: value i0 + i of the L keys
    GFLOW_UNROLL
    for (int i = 0; i < IC; ++i) acc[i] = V{};
    for (int t = std::max(s0, first); t < end; ++t) {
        const V p = load<V>(P + t * T + s0);
        const S* x = X + t * W + i0;
        GFLOW_UNROLL
        for (int i = 0; i < IC; ++i) acc[i] += x[i] * p;
    }
    const int keys = std::min(L, n - s0);
    GFLOW_UNROLL
    for (int c = 0; c < IC; c += L) {
        V tile[L];
        GFLOW_UNROLL
        for (int j = 0; j < L; ++j) tile[j] = acc[c + j];
        kernels::detail::transpose_stages<1>(tile);   // tile[j]: key s0 + j, values i0 + c ...
        for (int j = 0; j < keys; ++j) {
            S* row = out + (s0 + j) * W + i0 + c;
            store(row, load<V>(row) + tile[j]);
        }
    }
}
#endif

}  // namespace detail

// One head over the rows [0, n): A [n][n] in rows of stride T (row t: the softmax over s <= t, 0 for
// t < s < its tile's end; the columns after are not read), o [n][D] in rows of stride W.
// q, k, v, o: the head's first column; keys_t: [D][T] scratch.
template <int D, int W, int T, class S>
void forward(int n, const S* q, const S* k, const S* v, S* A, S* o, S* keys_t) {
    using shape = head_shape<S, D, T>;
    const S scale = S(1) / std::sqrt(S(D));
    detail::transpose_head<D, W, T>(k, n, keys_t);
    for (int t0 = 0; t0 < n; t0 += shape::row_tile) {
        const int t1 = std::min(n, t0 + shape::row_tile);
        detail::scores<D, W, T>(q, keys_t, t0, t1, [scale](int, int, auto x) { return x * scale; }, A);
        for (int t = t0; t < t1; ++t) detail::softmax<D, T>(A + t * T, t + 1, t1);
        detail::weighted_sums<false, D, W, T>(A, v, t0, t1, o);
    }
}

// Its backward: dq, dk, dv += (rows of stride W, the head's first column). o: forward's output;
// dS: [n][n] scratch in rows of stride T; values_t: [D][T] scratch.
template <int D, int W, int T, class S>
void backward(int n, const S* q, const S* k, const S* v, const S* A, const S* o, const S* d_o, S* dq, S* dk,
              S* dv, S* dS, S* values_t) {
    using shape = head_shape<S, D, T>;
    const S scale = S(1) / std::sqrt(S(D));
    detail::transpose_head<D, W, T>(v, n, values_t);
    using V = lanes<S, shape::L>;
    S weighted[shape::row_tile];   // Σ_s A_ts G_ts = do_t · o_t for the rows of a tile
    for (int t0 = 0; t0 < n; t0 += shape::row_tile) {
        const int t1 = std::min(n, t0 + shape::row_tile);
        for (int t = t0; t < t1; ++t) weighted[t - t0] = kernels::dot<D>(d_o + t * W, o + t * W);
        // dS = A ⊙ (G - weighted) scale, from G = do vᵀ in registers
        detail::scores<D, W, T>(d_o, values_t, t0, t1, [&](int t, int s, V g) {
            return detail::load<V>(A + t * T + s) * (g - weighted[t - t0]) * scale;
        }, dS);
        // 0 above the diagonal up to the tile's end, which dq and the key blocks read: there A may
        // be unwritten, and a score block of rows before t1 - 1 may stop short of t1 (4-lane vectors)
        for (int t = t0; t < t1; ++t)
            for (int s = t + 1; s < t1; ++s) dS[t * T + s] = 0;
        detail::weighted_sums<true, D, W, T>(dS, k, t0, t1, dq);
    }
    using namespace kernels::detail;
#if GFLOW_HAS_SHUFFLEVECTOR
    if constexpr (shape::keys_in_lanes) {
        for (int first = 0; first < n; first += shape::key_pass_rows) {
            const int end = std::min(n, first + shape::key_pass_rows);
            for (int s0 = 0; s0 < end; s0 += shape::L)
                for (int i0 = 0; i0 < D; i0 += shape::key_values) {
                    detail::key_vector<shape::key_values, D, W, T>(A, d_o, s0, first, end, n, dv, i0);
                    detail::key_vector<shape::key_values, D, W, T>(dS, q, s0, first, end, n, dk, i0);
                }
        }
        return;
    }
#endif
    for (int first = 0; first < n; first += shape::key_rows) {
        const int end = std::min(n, first + shape::key_rows);
        for_groups<shape::ND, shape::key_groups>([&]<int KG>(int k0) {
            for_blocks<shape::key_block>(0, end, [&]<int KB>(int s0) {
                detail::key_block<KB, KG, D, W, T>(A, dS, d_o, q, s0, first, end, dv, dk, k0);
            });
        });
    }
}

}  // namespace gflow::kernels::causal
