// gflow/expr/attend.hpp: causal multi-head attention of given queries, keys and values, as a node
// of an expression (terms/attention.hpp writes the mixer with it):
//
//   attend<H>(q, k, v):  per head, a_ts = softmax_s(q_t . k_s / sqrt(d/H)), s <= t;  o_t = sum_s a_ts v_s
//
// Its backward is derived by hand (softmax and two products). It keeps the weights [H][T][T]
// for backward; decoding keeps a key/value cache [2][T][d] that grows with the position.
// Three ways to a sequence, chosen by its length: each head on gflow's kernels
// (core/causal_attention.hpp: the Tiny Shakespeare models, in float and double), else the
// products through the BLAS by causal blocks (long sequences in a block that is not whole
// vectors), else position by position (the names and parens models, decoding, long double).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include <gflow/core/blas.hpp>
#include <gflow/core/causal_attention.hpp>
#include <gflow/core/exp.hpp>
#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/expr/graph.hpp>

namespace gflow::expr {

template <int H, node Q, node Kn, node V>
struct attend_node : node_base, no_params_node {
    static_assert(H >= 1, "gflow::expr::attend<heads>: needs at least one head");
    static constexpr int W = Q::width, D = W / H;   // D: head size
    static_assert(Kn::width == W && V::width == W, "gflow::expr::attend<heads>(q, k, v): q, k and v have one width");
    static_assert(W % H == 0, "gflow::attention<heads>: the number of heads must divide the width");
    using inputs = type_list<Q, Kn, V>;
    static constexpr int width = W, first_valid = 0;
    template <int T>
    // The weights lie [H][T][T], except where the heads run in lanes (below): [T][T][H], the same size.
    static constexpr memory_plan memory{kept_buffer("weights", "[H][T][T] ([T][T][H] with the heads in lanes)",
                                                    std::size_t(H) * T * T),   // s <= t
                                        scratch_buffer("scores or ∂weights", "[T][max(T, d)]",
                                                       std::size_t(T) * std::size_t(std::max(T, W))),
                                        scratch_buffer("a head's keys or values, transposed", "[d/H][T]",
                                                       std::size_t(D) * T)};
    template <int T> static constexpr std::size_t keep = memory<T>.kept_size();
    template <int T> static constexpr std::size_t scratch = memory<T>.scratch_size();
    template <int T> static constexpr std::size_t state = 2 * std::size_t(T) * W;       // key and value cache [2][T][d]
    static std::string label() { return fmt::format("attend<{} heads of {}> causal softmax", H, D); }
    // The scores q·k and the weighted sums of v: position t takes t + 1 keys, d multiply-adds each
    // (all heads), for each of the two.
    static constexpr flop_count flops(long length) {
        const double forward = 2.0 * 2.0 * double(length) * double(length + 1) / 2 * W;
        return {forward, 2 * forward};
    }

    // The scores and weighted sums as products through the BLAS (core/blas.hpp), where they are
    // large enough and the kernels do not take them (the names model's 16 x 16 x 4 stay in the
    // loops below), causal by blocks: the n rows in blocks of `causal_block`, row block b against the
    // keys 0 .. end of b only (the lower block-triangle of the [n][n] weights; above the diagonal
    // inside the diagonal blocks the weights are set to 0). At n = 256 that is 9/16 of the n x n
    // multiply-adds of whole products (the causal loops do 1/2), at several times the loops' speed.
    template <class S>
    static bool through_blas(int n) {
        if constexpr (blas::supports<S>) return blas::worth(n, n, D);
        else return false;
    }
    // Rows of a block: fixed, so the calls (and roundings) depend on n only. Smaller blocks skip
    // more of the upper triangle but make more, smaller calls: at n = 256, D = 16 (forward and
    // backward, one thread) 32 rows are fastest, 16 and 64 a few per cent slower, 128 about 9 %.
    static constexpr int causal_block = 32;

    template <int T, class S>
    static void forward(const pass& p, const S*, S* att, S* node_scratch, S* o, std::array<const S*, 3> in) {
        const int n = p.n;
        const auto [q, k, v] = in;
        if constexpr (kernels::causal::head_shape<S, D, T>::available) {
            if (kernels::causal::worth<S, D, T>(n)) return forward_kernels<T>(n, q, k, v, att, o, node_scratch);
        }
        if (through_blas<S>(n)) return forward_products<T>(n, q, k, v, att, o);
#if GFLOW_HAS_SHUFFLEVECTOR
        if constexpr (heads_in_lanes<S>)
            return forward_heads_in_lanes<T>(n, q, k, v, att, o, node_scratch + memory<T>.offset("scores or ∂weights"));
#endif
        for (int hd = 0; hd < H; ++hd)
            for (int t = 0; t < n; ++t) attend(hd, q + t * W, k, v, t + 1, att + (hd * T + t) * T, o + t * W);
    }

    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S* att, S* datt, const S* o, const S* d_o,
                         std::array<const S*, 3> in, std::array<S*, 3> din) {
        if constexpr (kernels::causal::head_shape<S, D, T>::available) {
            if (kernels::causal::worth<S, D, T>(p.n)) return backward_kernels<T>(p.n, in, din, att, o, d_o, datt);
        }
        if (through_blas<S>(p.n)) return backward_products<T>(p.n, in, din, att, datt, d_o);
#if GFLOW_HAS_SHUFFLEVECTOR
        if constexpr (heads_in_lanes<S>)
            return backward_heads_in_lanes<T>(p.n, in, din, att, datt + memory<T>.offset("scores or ∂weights"), d_o);
#endif
        backward_loops<T>(p.n, in, din, att, datt, d_o);
    }

    // One generated token at position t: append k_t, v_t to the cache, attend over 0..t.
    template <int T, class S>
    static void decode(const pass& p, const S*, S* att, S*, S* cache, S* o, std::array<const S*, 3> in) {
        const int t = p.first_position;
        S* k_cache = cache;            // [T][d]
        S* v_cache = cache + T * W;    // [T][d]
        for (int i = 0; i < W; ++i) {
            k_cache[t * W + i] = in[1][i];
            v_cache[t * W + i] = in[2][i];
        }
        for (int hd = 0; hd < H; ++hd) attend(hd, in[0], k_cache, v_cache, t + 1, att + hd * T, o);
    }

private:
    // Each head on gflow's kernels (core/causal_attention.hpp), with a head's keys (forward) or
    // values (backward) transposed in the scratch after ∂weights.
    template <int T, class S>
    static void forward_kernels(int n, const S* q, const S* k, const S* v, S* att, S* o, S* scratch) {
        S* keys_t = scratch + memory<T>.offset("a head's keys or values, transposed");
        for (int hd = 0; hd < H; ++hd) {
            const int c0 = hd * D;
            kernels::causal::forward<D, W, T>(n, q + c0, k + c0, v + c0, att + hd * T * T, o + c0, keys_t);
        }
    }
    template <int T, class S>
    static void backward_kernels(int n, std::array<const S*, 3> in, std::array<S*, 3> din, const S* att, const S* o,
                                 const S* d_o, S* scratch) {
        const auto [q, k, v] = in;
        const auto [dq, dk, dv] = din;
        S* dscores = scratch + memory<T>.offset("scores or ∂weights");
        S* values_t = scratch + memory<T>.offset("a head's keys or values, transposed");
        for (int hd = 0; hd < H; ++hd) {
            const int c0 = hd * D;
            kernels::causal::backward<D, W, T>(n, q + c0, k + c0, v + c0, att + hd * T * T, o + c0, d_o + c0, dq + c0,
                                               dk + c0, dv + c0, dscores, values_t);
        }
    }

    // Per head, with A = the weights [n][n] (row t: the softmax over s <= t, 0 beyond):
    //   scores = q_h k_hᵀ / sqrt(D),  A = softmax(scores) row by row,  o_h = A v_h;
    // row block [r0, r1) needs the keys and values 0 .. r1 - 1 only (columns r1 .. n - 1 of A are
    // not written: nothing reads them).
    template <int T, class S>
    static void forward_products(int n, const S* q, const S* k, const S* v, S* att, S* o) {
        if constexpr (blas::supports<S>) {   // through_blas: never called otherwise
            const S scale = S(1) / std::sqrt(S(D));
            for (int hd = 0; hd < H; ++hd) {
                const int c0 = hd * D;
                S* A = att + hd * T * T;   // [n][n], rows of stride T
                for (int r0 = 0; r0 < n; r0 += causal_block) {
                    const int r1 = std::min(n, r0 + causal_block), m = r1 - r0;
                    S* Ab = A + r0 * T;   // rows r0 .. r1 - 1: [m][r1]
                    blas::gemm(false, true, m, r1, D, q + r0 * W + c0, W, k + c0, W, S(0), Ab, T);
                    for (int t = r0; t < r1; ++t) {
                        S* row = A + t * T;
                        S max_score = -INFINITY;   // (a vector reduction: exact, any order)
                        GFLOW_PRAGMA(omp simd reduction(max : max_score))
                        for (int s = 0; s <= t; ++s) max_score = std::max(max_score, row[s] * scale);
                        S acc = 0;
                        GFLOW_SIMD_SUM
                        for (int s = 0; s <= t; ++s) {
                            row[s] = vexp(row[s] * scale - max_score);
                            acc += row[s];
                        }
                        const S inv = S(1) / acc;
                        for (int s = 0; s <= t; ++s) row[s] *= inv;
                        for (int s = t + 1; s < r1; ++s) row[s] = 0;
                    }
                    blas::gemm(false, false, m, D, r1, Ab, T, v + c0, W, S(0), o + r0 * W + c0, W);
                }
            }
        }
    }
    // Backward of the above, per head, with G = dA and then d(scores) [n][n]:
    //   G = do_h v_hᵀ;  dv_h += Aᵀ do_h;  dscores = A ⊙ (G - rowsum(A ⊙ G)) / sqrt(D)
    //   (0 above the diagonal, where A is);  dq_h += dscores k_h;  dk_h += dscoresᵀ q_h.
    // G, dscores and dq by row blocks as in forward; dv and dk, sums over the rows t >= s, by key
    // blocks [s0, s1) against the rows s0 .. n - 1 (the blocks of A and dscores below them, written
    // by the row blocks, and the diagonal block's zeros).
    template <int T, class S>
    static void backward_products(int n, std::array<const S*, 3> in, std::array<S*, 3> din, const S* att, S* G,
                                  const S* d_o) {
        if constexpr (blas::supports<S>) {   // through_blas: never called otherwise
            const auto [q, k, v] = in;
            const auto [dq, dk, dv] = din;
            const S scale = S(1) / std::sqrt(S(D));
            for (int hd = 0; hd < H; ++hd) {
                const int c0 = hd * D;
                const S* A = att + hd * T * T;   // [n][n], rows of stride T, as G
                for (int r0 = 0; r0 < n; r0 += causal_block) {
                    const int r1 = std::min(n, r0 + causal_block), m = r1 - r0;
                    S* Gb = G + r0 * T;   // rows r0 .. r1 - 1: [m][r1]
                    blas::gemm(false, true, m, r1, D, d_o + r0 * W + c0, W, v + c0, W, S(0), Gb, T);
                    for (int t = r0; t < r1; ++t) {
                        const S* at = A + t * T;
                        S* gt = G + t * T;
                        S weighted = 0;
                        GFLOW_PRAGMA(omp simd reduction(+ : weighted))
                        for (int s = 0; s <= t; ++s) weighted += at[s] * gt[s];
                        GFLOW_SIMD
                        for (int s = 0; s <= t; ++s) gt[s] = at[s] * (gt[s] - weighted) * scale;
                        for (int s = t + 1; s < r1; ++s) gt[s] = 0;
                    }
                    blas::gemm(false, false, m, D, r1, Gb, T, k + c0, W, S(1), dq + r0 * W + c0, W);
                }
                for (int s0 = 0; s0 < n; s0 += causal_block) {
                    const int m = std::min(n, s0 + causal_block) - s0;
                    // [n - s0][m] blocks of A and dscores at row s0, column s0
                    blas::gemm(true, false, m, D, n - s0, A + s0 * T + s0, T, d_o + s0 * W + c0, W, S(1),
                               dv + s0 * W + c0, W);
                    blas::gemm(true, false, m, D, n - s0, G + s0 * T + s0, T, q + s0 * W + c0, W, S(1),
                               dk + s0 * W + c0, W);
                }
            }
        }
    }

    // The same, position by position over s <= t (small sequences: the names model).
    template <int T, class S>
    static void backward_loops(int n, std::array<const S*, 3> in, std::array<S*, 3> din, const S* att,
                               S* dweights, const S* d_o) {
        const auto [q, k, v] = in;
        const auto [dq, dk, dv] = din;
        const S scale = S(1) / std::sqrt(S(D));
        for (int hd = 0; hd < H; ++hd) {
            const int c0 = hd * D;
            for (int t = 0; t < n; ++t) {
                const S* weights = att + (hd * T + t) * T;
                const S* do_t = d_o + t * W + c0;
                // o_t = sum_s a_s v_s  ->  da_s = do_t . v_s,  dv_s += a_s do_t
                S weighted = 0;
                for (int s = 0; s <= t; ++s) {
                    const S* vs = v + s * W + c0;
                    S* dvs = dv + s * W + c0;
                    S acc = 0;
                    GFLOW_SIMD_SUM
                    for (int i = 0; i < D; ++i) acc += do_t[i] * vs[i];
                    dweights[s] = acc;
                    weighted += weights[s] * acc;
                    GFLOW_SIMD
                    for (int i = 0; i < D; ++i) dvs[i] += weights[s] * do_t[i];
                }
                // softmax: dscore_s = a_s (da_s - sum_j a_j da_j); score = scale q_t . k_s
                const S* qt = q + t * W + c0;
                S* dqt = dq + t * W + c0;
                for (int s = 0; s <= t; ++s) {
                    const S dscore = weights[s] * (dweights[s] - weighted) * scale;
                    const S* ks = k + s * W + c0;
                    S* dks = dk + s * W + c0;
                    GFLOW_SIMD
                    for (int i = 0; i < D; ++i) {
                        dqt[i] += dscore * ks[i];
                        dks[i] += dscore * qt[i];
                    }
                }
            }
        }
    }

public:
    // All heads at once, for the short sequences (the names and parens models): a row of d values
    // is d/L vectors of L lanes, lane c of vector j belonging to head (jL + c) / D. Where a head's D
    // lanes lie inside one vector (L a multiple of D: float and double, D a power of two up to L),
    // a head's score q_t . k_s is the sum of its group of D lanes of q_t * k_s, which log2(D)
    // shuffles and adds leave in every lane of the group (`head_sums`). The softmax, the weighted
    // sums and the whole backward are then elementwise on whole rows: no dot of D = 4 lanes with
    // its horizontal sum per score, no loop per head (the names step's attention took 1.46x the
    // hand-written fused step's time position by position: bench/names_fused). A row's scores,
    // lane by lane, wait in the scratch [T][d]; the weights keep one value a head, [T][T][H].
    template <class S>
    static constexpr int row_lanes =
        (std::is_same_v<S, float> || std::is_same_v<S, double>) ? simd::lanes_for<S, W>() : 1;
    template <class S>
    static constexpr bool heads_in_lanes = GFLOW_HAS_SHUFFLEVECTOR && row_lanes<S> >= 2 && row_lanes<S> % D == 0;

private:
#if GFLOW_HAS_SHUFFLEVECTOR
    template <class S>
    using row_vector = kernels::lanes<S, row_lanes<S>>;
    template <class S>
    static row_vector<S> load_row(const S* p) {
        row_vector<S> v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }
    template <class S>
    static void store_row(S* p, const std::type_identity_t<row_vector<S>>& v) { std::memcpy(p, &v, sizeof v); }
    // v + v with lanes c and c ^ X swapped, for X = Step, 2 Step, ... < D: each group of D lanes
    // (aligned, D a power of two) summed into every lane of the group.
    template <int Step = 1, class S>
    static void head_sums(row_vector<S>& v) {
        if constexpr (Step < D) {
            [&]<std::size_t... J>(std::index_sequence<J...>) {
                v += __builtin_shufflevector(v, v, int(J ^ Step)...);
            }(std::make_index_sequence<row_lanes<S>>{});
            head_sums<2 * Step, S>(v);
        }
    }
    // The L / D heads of a vector of head-constant lanes to memory, one value a head, and back.
    template <class S>
    static void store_heads(S* p, const std::type_identity_t<row_vector<S>>& v) {
        constexpr int heads = row_lanes<S> / D;
        if constexpr (heads == 1) {
            p[0] = v[0];
        } else {
            [&]<std::size_t... J>(std::index_sequence<J...>) {
                const kernels::lanes<S, heads> one_a_head = __builtin_shufflevector(v, v, int(J * D)...);
                std::memcpy(p, &one_a_head, sizeof one_a_head);
            }(std::make_index_sequence<heads>{});
        }
    }
    template <class S>
    static row_vector<S> load_heads(const S* p) {
        constexpr int heads = row_lanes<S> / D;
        if constexpr (heads == 1) {
            return row_vector<S>{} + p[0];
        } else {
            kernels::lanes<S, heads> one_a_head;
            std::memcpy(&one_a_head, p, sizeof one_a_head);
            return [&]<std::size_t... J>(std::index_sequence<J...>) {
                return row_vector<S>(__builtin_shufflevector(one_a_head, one_a_head, int(J / D)...));
            }(std::make_index_sequence<row_lanes<S>>{});
        }
    }

    // Forward: per position t, the scores of s <= t (all heads) into the scratch, their maximum
    // per head, the exponentials and their sum, then the weights (kept, [t][s][H]) and
    // o_t = sum_s a_ts v_s. The same formulas as `attend`, in the same order per score.
    template <int T, class S>
    static void forward_heads_in_lanes(int n, const S* q, const S* k, const S* v, S* att, S* o, S* scores) {
        constexpr int L = row_lanes<S>, NV = W / L, heads = L / D;
        using Row = row_vector<S>;
        const S scale = S(1) / std::sqrt(S(D));
        for (int t = 0; t < n; ++t) {
            Row qt[NV], top[NV], total[NV], ot[NV];
            GFLOW_UNROLL
            for (int j = 0; j < NV; ++j) {
                qt[j] = load_row(q + t * W + j * L);
                top[j] = Row{} - S(INFINITY);
                total[j] = ot[j] = Row{};
            }
            for (int s = 0; s <= t; ++s)
                GFLOW_UNROLL
                for (int j = 0; j < NV; ++j) {
                    Row score = qt[j] * load_row(k + s * W + j * L);
                    head_sums<1, S>(score);
                    score *= scale;
                    store_row(scores + s * W + j * L, score);
                    top[j] = top[j] > score ? top[j] : score;
                }
            for (int s = 0; s <= t; ++s)
                GFLOW_UNROLL
                for (int j = 0; j < NV; ++j) {
                    const Row e = vexp(load_row(scores + s * W + j * L) - top[j]);
                    store_row(scores + s * W + j * L, e);
                    total[j] += e;
                }
            GFLOW_UNROLL
            for (int j = 0; j < NV; ++j) total[j] = S(1) / total[j];
            S* weights = att + t * T * H;   // [s][H]
            for (int s = 0; s <= t; ++s)
                GFLOW_UNROLL
                for (int j = 0; j < NV; ++j) {
                    const Row a = load_row(scores + s * W + j * L) * total[j];
                    store_heads(weights + s * H + j * heads, a);
                    ot[j] += a * load_row(v + s * W + j * L);
                }
            GFLOW_UNROLL
            for (int j = 0; j < NV; ++j) store_row(o + t * W + j * L, ot[j]);
        }
    }
    // Backward, per position t: da_s = do_t . v_s (per head, into the scratch) and dv_s += a_s do_t;
    // then d score_s = a_s (da_s - sum_j a_j da_j) / sqrt(D), dq_t += d score_s k_s and
    // dk_s += d score_s q_t: backward_loops' formulas on whole rows.
    template <int T, class S>
    static void backward_heads_in_lanes(int n, std::array<const S*, 3> in, std::array<S*, 3> din, const S* att,
                                        S* da, const S* d_o) {
        constexpr int L = row_lanes<S>, NV = W / L, heads = L / D;
        using Row = row_vector<S>;
        const auto [q, k, v] = in;
        const auto [dq, dk, dv] = din;
        const S scale = S(1) / std::sqrt(S(D));
        for (int t = 0; t < n; ++t) {
            const S* weights = att + t * T * H;   // [s][H]
            Row dot[NV], qt[NV], weighted[NV], dqt[NV];
            GFLOW_UNROLL
            for (int j = 0; j < NV; ++j) {
                dot[j] = load_row(d_o + t * W + j * L);
                qt[j] = load_row(q + t * W + j * L);
                weighted[j] = dqt[j] = Row{};
            }
            for (int s = 0; s <= t; ++s)
                GFLOW_UNROLL
                for (int j = 0; j < NV; ++j) {
                    const Row a = load_heads(weights + s * H + j * heads);
                    Row d = dot[j] * load_row(v + s * W + j * L);
                    head_sums<1, S>(d);
                    store_row(da + s * W + j * L, d);
                    weighted[j] += a * d;
                    store_row(dv + s * W + j * L, load_row(dv + s * W + j * L) + a * dot[j]);
                }
            for (int s = 0; s <= t; ++s)
                GFLOW_UNROLL
                for (int j = 0; j < NV; ++j) {
                    const Row a = load_heads(weights + s * H + j * heads);
                    const Row dscore = a * (load_row(da + s * W + j * L) - weighted[j]) * scale;
                    dqt[j] += dscore * load_row(k + s * W + j * L);
                    store_row(dk + s * W + j * L, load_row(dk + s * W + j * L) + dscore * qt[j]);
                }
            GFLOW_UNROLL
            for (int j = 0; j < NV; ++j) store_row(dq + t * W + j * L, load_row(dq + t * W + j * L) + dqt[j]);
        }
    }
#endif

    // Head hd of one query over keys/values 0..count-1: weights (softmax) and output slice.
    template <class S>
    static void attend(int hd, const S* qt, const S* keys, const S* values, int count, S* weights, S* ot) {
        const int c0 = hd * D;
        const S scale = S(1) / std::sqrt(S(D));
        S max_score = -INFINITY;
        for (int s = 0; s < count; ++s) {
            const S* ks = keys + s * W + c0;
            S acc = 0;
            GFLOW_SIMD_SUM
            for (int i = 0; i < D; ++i) acc += qt[c0 + i] * ks[i];
            weights[s] = acc * scale;
            max_score = std::max(max_score, weights[s]);
        }
        S acc = 0;   // the softmax's denominator (a vector reduction: vexp inlines)
        GFLOW_SIMD_SUM
        for (int s = 0; s < count; ++s) {
            weights[s] = vexp(weights[s] - max_score);
            acc += weights[s];
        }
        const S inv = S(1) / acc;
        for (int s = 0; s < count; ++s) weights[s] *= inv;
        S* out = ot + c0;
        for (int i = 0; i < D; ++i) out[i] = 0;
        for (int s = 0; s < count; ++s) {
            const S* vs = values + s * W + c0;
            GFLOW_SIMD
            for (int i = 0; i < D; ++i) out[i] += weights[s] * vs[i];
        }
    }
};

template <int H, node Q, node Kn, node V>
constexpr attend_node<H, Q, Kn, V> attend(Q, Kn, V) { return {}; }

}  // namespace gflow::expr
