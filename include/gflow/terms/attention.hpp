// gflow/terms/attention.hpp: causal multi-head self-attention (the microGPT baseline,
// docs/benchmarks.md#attention).
//
//   q, k, v = W_q h, W_k h, W_v h                       each d x d, H heads of d/H
//   per head: a_ts = softmax_s(q_t . k_s / sqrt(d/H)), s <= t;   o_t = sum_s a_ts v_s
//   out = W_o concat(heads)
//
// Cost per sequence O(L^2 d). Decoding keeps a key/value cache that grows with the position.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include <gflow/core/exp.hpp>
#include <gflow/core/kernels.hpp>
#include <gflow/core/term.hpp>

namespace gflow::terms {

template <int H>
struct attention_t : term_base {
    static_assert(H >= 1, "gflow::attention<heads>: needs at least one head");
    static constexpr int heads = H;

    template <dims C, int W>
    struct impl {
        static_assert(W > 0, "gflow::attention: needs an input vector (it cannot start a model)");
        static_assert(W % H == 0, "gflow::attention<heads>: the number of heads must divide the width");
        static constexpr int in_width = W, out_width = W, T = C.block, D = W / H;   // D: head size

        static constexpr std::size_t Wq = 0, Wk = W * W, Wv = 2 * W * W, Wo = 3 * W * W;   // [d][d] each
        static constexpr std::size_t param_size = 4 * W * W;

        static constexpr std::size_t q = 0;                   // [T][d]
        static constexpr std::size_t k = q + T * W;           // [T][d]
        static constexpr std::size_t v = k + T * W;           // [T][d]
        static constexpr std::size_t o = v + T * W;           // [T][d] heads concatenated
        static constexpr std::size_t att = o + T * W;         // [H][T][T] softmax weights, s <= t
        static constexpr std::size_t dq = att + H * T * T;    // [T][d]
        static constexpr std::size_t dk = dq + T * W;         // [T][d]
        static constexpr std::size_t dv = dk + T * W;         // [T][d]
        static constexpr std::size_t d_o = dv + T * W;        // [T][d]
        static constexpr std::size_t datt = d_o + T * W;      // [T][T] d(weights), then d(scores)
        static constexpr std::size_t act_size = datt + T * T;

        static constexpr std::size_t state_size = 2 * std::size_t(T) * W;   // key and value cache
        // Wq, Wk, Wv, Wo; then the scores q·k and the weighted sums of v: position t takes t + 1
        // keys, d multiply-adds each (all heads), for each of the two.
        static constexpr flop_count flops(long length) {
            const double forward = 2.0 * 2.0 * double(length) * double(length + 1) / 2 * W;
            return product_flops(length, W, W) * 4 + flop_count{forward, 2 * forward};
        }

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            f(param_desc{prefix + "attn_wq", W, W, offset + Wq});
            f(param_desc{prefix + "attn_wk", W, W, offset + Wk});
            f(param_desc{prefix + "attn_wv", W, W, offset + Wv});
            f(param_desc{prefix + "attn_wo", W, W, offset + Wo});
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, fmt::format("attention<{} heads of {}> causal", H, D), W, W,
                            param_size, act_size});
        }

        // The scores and weighted sums as products of whole [n][n] matrices through the BLAS
        // (core/blas.hpp), where they are large enough (the Tiny Shakespeare models; the names
        // model's 16 x 16 x 4 stay in the loops below). The products run over all n x n pairs and
        // the weights above the diagonal are set to 0: twice the multiply-adds of the causal
        // loops, at several times their speed.
        template <class S>
        static bool through_blas(int n) {
            if constexpr (blas::supports<S>) return blas::worth(n, n, D);
            else return false;
        }

        template <class S>
        static void forward(const pass& p, const S* w, S* a, const S* h, S* y) {
            const int n = p.n;
            kernels::matvec_rows<W, W>(w + Wq, h, a + q, n);
            kernels::matvec_rows<W, W>(w + Wk, h, a + k, n);
            kernels::matvec_rows<W, W>(w + Wv, h, a + v, n);
            if (through_blas<S>(n)) {
                forward_products(n, a);
                kernels::matvec_rows<W, W>(w + Wo, a + o, y, n);
                return;
            }
            for (int hd = 0; hd < H; ++hd)
                for (int t = 0; t < n; ++t)
                    attend(hd, a + q + t * W, a + k, a + v, t + 1, a + att + (hd * T + t) * T,
                           a + o + t * W);
            kernels::matvec_rows<W, W>(w + Wo, a + o, y, n);
        }

        template <class S>
        static void backward(const pass& p, const S* w, S* dw, S* a, const S* h, const S*,
                             const S* dy, S* dh) {
            const int n = p.n;
            kernels::zero(a + d_o, n * W);
            kernels::matvec_rows_backward<W, W>(w + Wo, dw + Wo, a + o, dy, a + d_o, n);
            kernels::zero(a + dq, 3 * T * W);   // dq, dk, dv are contiguous
            if (through_blas<S>(n)) backward_products(n, a);
            else backward_loops(n, a);
            kernels::matvec_rows_backward<W, W>(w + Wq, dw + Wq, h, a + dq, dh, n);
            kernels::matvec_rows_backward<W, W>(w + Wk, dw + Wk, h, a + dk, dh, n);
            kernels::matvec_rows_backward<W, W>(w + Wv, dw + Wv, h, a + dv, dh, n);
        }

        // One generated token at position t: append k_t, v_t to the cache, attend over 0..t.
        template <class S>
        static void decode(const pass& p, const S* w, S* a, S* cache, const S* h, S* y) {
            const int t = p.first_position;
            S* k_cache = cache;            // [T][d]
            S* v_cache = cache + T * W;    // [T][d]
            kernels::matvec_rows<W, W>(w + Wq, h, a + q, 1);
            kernels::matvec_rows<W, W>(w + Wk, h, k_cache + t * W, 1);
            kernels::matvec_rows<W, W>(w + Wv, h, v_cache + t * W, 1);
            for (int hd = 0; hd < H; ++hd)
                attend(hd, a + q, k_cache, v_cache, t + 1, a + att + hd * T, a + o);
            kernels::matvec_rows<W, W>(w + Wo, a + o, y, 1);
        }

    private:
        // Per head, with A = the weights [n][n] (row t: the softmax over s <= t, 0 beyond):
        //   scores = q_h k_hᵀ / sqrt(D),  A = softmax(scores) row by row,  o_h = A v_h.
        template <class S>
        static void forward_products(int n, S* a) {
            if constexpr (blas::supports<S>) {   // through_blas: never called otherwise
                const S scale = S(1) / std::sqrt(S(D));
                for (int hd = 0; hd < H; ++hd) {
                    const int c0 = hd * D;
                    S* A = a + att + hd * T * T;   // rows of stride T
                    blas::gemm(false, true, n, n, D, a + q + c0, W, a + k + c0, W, S(0), A, T);
                    for (int t = 0; t < n; ++t) {
                        S* row = A + t * T;
                        S max_score = -INFINITY;
                        for (int s = 0; s <= t; ++s) max_score = std::max(max_score, row[s] * scale);
                        S acc = 0;
                        GFLOW_SIMD_SUM
                        for (int s = 0; s <= t; ++s) {
                            row[s] = vexp(row[s] * scale - max_score);
                            acc += row[s];
                        }
                        const S inv = S(1) / acc;
                        for (int s = 0; s <= t; ++s) row[s] *= inv;
                        for (int s = t + 1; s < n; ++s) row[s] = 0;
                    }
                    blas::gemm(false, false, n, D, n, A, T, a + v + c0, W, S(0), a + o + c0, W);
                }
            }
        }
        // Backward of the above, per head, with G = dA and then d(scores) [n][n]:
        //   G = do_h v_hᵀ;  dv_h += Aᵀ do_h;  dscores = A ⊙ (G - rowsum(A ⊙ G)) / sqrt(D)
        //   (0 above the diagonal, where A is);  dq_h += dscores k_h;  dk_h += dscoresᵀ q_h.
        template <class S>
        static void backward_products(int n, S* a) {
            if constexpr (blas::supports<S>) {   // through_blas: never called otherwise
                const S scale = S(1) / std::sqrt(S(D));
                S* G = a + datt;
                for (int hd = 0; hd < H; ++hd) {
                    const int c0 = hd * D;
                    const S* A = a + att + hd * T * T;
                    blas::gemm(false, true, n, n, D, a + d_o + c0, W, a + v + c0, W, S(0), G, T);
                    blas::gemm(true, false, n, D, n, A, T, a + d_o + c0, W, S(1), a + dv + c0, W);
                    for (int t = 0; t < n; ++t) {
                        const S* at = A + t * T;
                        S* gt = G + t * T;
                        S weighted = 0;
                        GFLOW_PRAGMA(omp simd reduction(+ : weighted))
                        for (int s = 0; s <= t; ++s) weighted += at[s] * gt[s];
                        GFLOW_SIMD
                        for (int s = 0; s <= t; ++s) gt[s] = at[s] * (gt[s] - weighted) * scale;
                        for (int s = t + 1; s < n; ++s) gt[s] = 0;
                    }
                    blas::gemm(false, false, n, D, n, G, T, a + k + c0, W, S(1), a + dq + c0, W);
                    blas::gemm(true, false, n, D, n, G, T, a + q + c0, W, S(1), a + dk + c0, W);
                }
            }
        }

        // The same, position by position over s <= t (small sequences: the names model).
        template <class S>
        static void backward_loops(int n, S* a) {
            const S scale = S(1) / std::sqrt(S(D));
            for (int hd = 0; hd < H; ++hd) {
                const int c0 = hd * D;
                for (int t = 0; t < n; ++t) {
                    const S* weights = a + att + (hd * T + t) * T;
                    const S* do_t = a + d_o + t * W + c0;
                    S* dweights = a + datt;
                    // o_t = sum_s a_s v_s  ->  da_s = do_t . v_s,  dv_s += a_s do_t
                    S weighted = 0;
                    for (int s = 0; s <= t; ++s) {
                        const S* vs = a + v + s * W + c0;
                        S* dvs = a + dv + s * W + c0;
                        S acc = 0;
                        GFLOW_SIMD_SUM
                        for (int i = 0; i < D; ++i) acc += do_t[i] * vs[i];
                        dweights[s] = acc;
                        weighted += weights[s] * acc;
                        GFLOW_SIMD
                        for (int i = 0; i < D; ++i) dvs[i] += weights[s] * do_t[i];
                    }
                    // softmax: dscore_s = a_s (da_s - sum_j a_j da_j); score = scale q_t . k_s
                    const S* qt = a + q + t * W + c0;
                    S* dqt = a + dq + t * W + c0;
                    for (int s = 0; s <= t; ++s) {
                        const S dscore = weights[s] * (dweights[s] - weighted) * scale;
                        const S* ks = a + k + s * W + c0;
                        S* dks = a + dk + s * W + c0;
                        GFLOW_SIMD
                        for (int i = 0; i < D; ++i) {
                            dqt[i] += dscore * ks[i];
                            dks[i] += dscore * qt[i];
                        }
                    }
                }
            }
        }

        // Head hd of one query over keys/values 0..count-1: weights (softmax) and output slice.
        template <class S>
        static void attend(int hd, const S* qt, const S* keys, const S* values, int count, S* weights,
                           S* ot) {
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
};

template <int H>
inline constexpr attention_t<H> attention{};

}  // namespace gflow::terms
