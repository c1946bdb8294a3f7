// gflow/terms/grassmann_paper.hpp: the Grassmann mixer as the paper's full-scale model has it
// (docs/benchmarks.md#paper-model); grassmann.hpp is the microGrassmann form. The
// differences: a bias on every map, one gate matrix on the concatenation [h; g], and a choice of
// normalisation.
//
//   z_t  = W_red h_t + b_red                                  r x d, + r
//   p_ij = z_t[i] z_{t-δ}[j] - z_t[j] z_{t-δ}[i],  i < j      C(r,2) Plücker coordinates, paired
//                                                             with the EARLIER position t-δ (the
//                                                             paper's t+δ would leak the future)
//   p̂    = p / max(|p|, 1e-8)               plucker_norm::max     (the paper; the default)
//        = p / sqrt(|p|² + 1e-8)            plucker_norm::smooth  (the microGrassmann reference)
//   g_t  = W_plu · mean_δ p̂_δ + b_plu        over the offsets with t-δ >= 0   d x C(r,2), + d
//   g_t  = 0                                 where no offset exists (t < min δ), as microGrassmann's g_0 = 0:
//                                            the mean of the per-offset W_plu p̂_δ + b_plu is empty
//   α    = sigmoid(W_gate [h_t; g_t] + b_gate)                d x 2d, + d
//   out  = α ⊙ h_t + (1 - α) ⊙ g_t          no residual inside: the blend carries h
//
// W_plu is applied once, to the mean of p̂ (an affine map commutes with a mean). The Plücker pass
// fuses coordinates, normalisation and mean into one loop per position; the gate and mix is the
// generated elementwise map of grassmann.hpp. Decoding keeps the last max(window) reduced
// vectors z (constant memory per token).
//
// Parameter names (the paper's symbols, as grassmann.hpp names its own): W_red [r][d],
// b_red [1][r], W_plu [d][C(r,2)], b_plu [1][d], W_gate [d][2d] (columns 0..d-1 act on h,
// d..2d-1 on g), b_gate [1][d].
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gflow/core/elementwise.hpp>
#include <gflow/core/kernels.hpp>
#include <gflow/core/term.hpp>
#include <gflow/terms/affine.hpp>
#include <gflow/terms/grassmann.hpp>

namespace gflow::terms {

using expr::plucker_norm;

template <int R, plucker_norm Norm, int... Offsets>
struct grassmann_paper_t : term_base {
    static_assert(R >= 2, "gflow::grassmann_paper<r>: r must be at least 2 (a Plücker coordinate "
                          "needs two dimensions)");
    static_assert(sizeof...(Offsets) >= 1, "gflow::grassmann_paper: the window is empty; give at "
                                           "least one offset, e.g. offsets<1>");
    static_assert(((Offsets >= 1) && ...),
                  "gflow::grassmann_paper: every window offset must be at least 1 (a causal layer "
                  "pairs position t with an earlier t-δ)");

    static constexpr int r = R;
    static constexpr int pairs = R * (R - 1) / 2;   // C(r,2)
    static constexpr int K = sizeof...(Offsets);
    static constexpr std::array<int, K> window{Offsets...};
    static constexpr int max_offset = std::max({Offsets...});
    static constexpr int min_offset = std::min({Offsets...});   // positions before it have g = 0
    static constexpr plucker_norm normalisation = Norm;
    static constexpr double norm_epsilon = 1e-8;   // ε of the max form; added to |p|² in smooth

    template <dims C, int W>
    struct impl {
        static_assert(W > 0, "gflow::grassmann_paper: needs an input vector (it cannot start a model)");
        static constexpr int in_width = W, out_width = W, P = pairs, T = C.block;

        // parameters, in the order of the formulas
        static constexpr std::size_t W_red = 0;                          // [r][d]
        static constexpr std::size_t b_red = W_red + R * W;              // [1][r]
        static constexpr std::size_t W_plu = b_red + R;                  // [d][C(r,2)]
        static constexpr std::size_t b_plu = W_plu + W * P;              // [1][d]
        static constexpr std::size_t W_gate = b_plu + W;                 // [d][2d]
        static constexpr std::size_t b_gate = W_gate + 2 * W * W;        // [1][d]
        static constexpr std::size_t param_size = b_gate + W;

        // activations, per sequence
        static constexpr std::size_t z = 0;                              // [T][r]
        static constexpr std::size_t phat = z + T * R;                   // [T][K][C(r,2)]
        static constexpr std::size_t inv_norm = phat + T * K * P;        // [T][K] 1 / N(p)
        static constexpr std::size_t pbar = inv_norm + T * K;            // [T][C(r,2)] mean of p̂
        static constexpr std::size_t g = pbar + T * P;                   // [T][d]
        static constexpr std::size_t gate = g + T * W;                   // [T][d] pre-sigmoid
        static constexpr std::size_t dz = gate + T * W;                  // [T][r]
        static constexpr std::size_t dpbar = dz + T * R;                 // [T][C(r,2)]
        static constexpr std::size_t dg = dpbar + T * P;                 // [T][d]
        static constexpr std::size_t dgate = dg + T * W;                 // [T][d]
        static constexpr std::size_t dp_scratch = dgate + T * W;         // [C(r,2)] one pair's dp
        static constexpr std::size_t act_size = dp_scratch + P;

        static constexpr std::size_t state_size = std::size_t(max_offset) * R;   // ring of z: [max δ][r]
        static constexpr flop_count flops(long length) {   // W_red, Plücker, W_plu, W_gate [d][2d]
            return product_flops(length, W, R) + plucker_flops<R>(length, window) + product_flops(length, P, W) +
                   product_flops(length, 2 * W, W);
        }

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            f(param_desc{prefix + "W_red", R, W, offset + W_red});
            f(param_desc{prefix + "b_red", 1, R, offset + b_red});
            f(param_desc{prefix + "W_plu", W, P, offset + W_plu});
            f(param_desc{prefix + "b_plu", 1, W, offset + b_plu});
            f(param_desc{prefix + "W_gate", W, 2 * W, offset + W_gate});
            f(param_desc{prefix + "b_gate", 1, W, offset + b_gate});
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth,
                            fmt::format("grassmann_paper<r={}> window {}, p / {}", R, window,
                                        Norm == plucker_norm::max ? "max(|p|, eps)"
                                                                  : "sqrt(|p|^2 + eps)"),
                            W, W, param_size, act_size});
        }

        // ---- forward -------------------------------------------------------------------------
        template <class S>
        static void forward(const pass& p, const S* w, S* a, const S* h, S* y) {
            detail::affine_rows<R, W>(w + W_red, w + b_red, h, a + z, p.n);
            for (int t = 0; t < p.n; ++t)
                plucker_mean(t, a + z + t * R, [&](int s) { return a + z + s * R; }, a);
            mix(p.n, std::min(p.n, min_offset), w, a, h, y);
        }

        // ---- backward (reverse order of forward) ---------------------------------------------
        template <class S>
        static void backward(const pass& p, const S* w, S* dw, S* a, const S* h, const S*,
                             const S* dy, S* dh) {
            const int n = p.n;
            kernels::zero(a + dg, n * W);
            kernels::zero(a + dgate, n * W);
            // out = gate_and_mix(gate, h, g): generated partials for the pre-gate, h and g
            kernels::map_backward<detail::gate_and_mix, 3>(
                n * W, dy, {a + gate, h, a + g}, {a + dgate, dh, a + dg});
            gate_backward(w + W_gate, dw + W_gate, dw + b_gate, h, a + g, a + dgate, dh, a + dg, n);
            // rows without an earlier partner have g = 0, a constant: their gradient stops here
            kernels::zero(a + dg, std::min(n, min_offset) * W);
            kernels::zero(a + dpbar, n * P);
            kernels::matvec_rows_backward<W, P>(w + W_plu, dw + W_plu, a + pbar, a + dg, a + dpbar, n);
            detail::bias_rows_backward<W>(dw + b_plu, a + dg, n);
            kernels::zero(a + dz, n * R);
            for (int t = 0; t < n; ++t) plucker_mean_backward(t, a);
            kernels::matvec_rows_backward<R, W>(w + W_red, dw + W_red, h, a + dz, dh, n);
            detail::bias_rows_backward<R>(dw + b_red, a + dz, n);
        }

        // ---- one generated token: pairs with the ring of the last max(window) z -----------------
        template <class S>
        static void decode(const pass& p, const S* w, S* a, S* ring, const S* h, S* y) {
            const int t = p.first_position;
            S* zt = a + z;   // [1][r]
            detail::affine_rows<R, W>(w + W_red, w + b_red, h, zt, 1);
            plucker_mean(0, zt, [&](int s) { return ring + ((s + t) % max_offset) * R; }, a, t);
            mix(1, t < min_offset ? 1 : 0, w, a, h, y);
            for (int i = 0; i < R; ++i) ring[(t % max_offset) * R + i] = zt[i];
        }

    private:
        // 1 / N(p) from ss = |p|².
        template <class S>
        static S inverse_norm(S ss) {
            if constexpr (Norm == plucker_norm::smooth)
                return S(1) / std::sqrt(ss + S(norm_epsilon));
            else
                return S(1) / std::max(std::sqrt(ss), S(norm_epsilon));
        }
        // Whether the max form was clamped for this p: then N = ε exactly, so 1/N = 1/ε (an
        // unclamped |p| > ε gives 1/|p| < 1/ε, equal only by rounding at the kink itself).
        template <class S>
        static bool clamped(S inv) {
            if constexpr (Norm == plucker_norm::smooth) return false;
            else return inv >= S(1) / S(norm_epsilon);
        }

        // p̂ for each offset that exists at position t (= row + position_shift), and their mean.
        // earlier(s) gives z at row s (s may be negative in decode, where rows are relative).
        template <class S, class Earlier>
        static void plucker_mean(int row, const S* zt, Earlier earlier, S* a, int position_shift = 0) {
            S* mean = a + pbar + row * P;   // [C(r,2)]
            for (int c = 0; c < P; ++c) mean[c] = 0;
            int count = 0;
            for (int k = 0; k < K; ++k) {
                const int delta = window[k];
                if (row + position_shift - delta < 0) continue;
                const S* u = earlier(row - delta);           // [r]
                S* ph = a + phat + (row * K + k) * P;        // [C(r,2)]
                const S inv = inverse_norm(plucker_coordinates<R>(zt, u, ph));
                a[inv_norm + row * K + k] = inv;
                for (int c = 0; c < P; ++c) {
                    ph[c] *= inv;
                    mean[c] += ph[c];
                }
                ++count;
            }
            if (count > 1)
                for (int c = 0; c < P; ++c) mean[c] /= S(count);
        }

        template <class S>
        static void plucker_mean_backward(int t, S* a) {
            int count = 0;
            for (int k = 0; k < K; ++k) count += (t - window[k] >= 0);
            if (count == 0) return;
            const S* dmean = a + dpbar + t * P;   // [C(r,2)]
            const S* zt = a + z + t * R;          // [r]
            S* dzt = a + dz + t * R;              // [r]
            for (int k = 0; k < K; ++k) {
                const int s = t - window[k];
                if (s < 0) continue;
                const S* u = a + z + s * R;                     // [r]
                S* du = a + dz + s * R;                         // [r]
                const S* ph = a + phat + (t * K + k) * P;       // [C(r,2)]
                const S inv = a[inv_norm + t * K + k];
                // d p̂ = dmean / count;  dp = (dp̂ - p̂ (p̂ . dp̂)) / N, or dp̂ / ε where clamped
                const S dot = clamped(inv) ? S(0) : plucker_dot<R>(ph, dmean), scale = inv / S(count);
                S* dp = a + dp_scratch;   // [C(r,2)]
                GFLOW_SIMD
                for (int c = 0; c < P; ++c) dp[c] = (dmean[c] - ph[c] * dot) * scale;
                plucker_coordinates_backward<R>(dp, zt, u, dzt, du);
            }
        }

        // g = W_plu p̄ + b_plu (0 on the first `no_partner` rows); gate = W_gate [h; g] + b_gate;
        // out = α ⊙ h + (1 - α) ⊙ g
        template <class S>
        static void mix(int n, int no_partner, const S* w, S* a, const S* h, S* y) {
            detail::affine_rows<W, P>(w + W_plu, w + b_plu, a + pbar, a + g, n);
            kernels::zero(a + g, no_partner * W);
            gate_forward(w + W_gate, w + b_gate, h, a + g, a + gate, n);
            kernels::map_forward<detail::gate_and_mix>(n * W, y, a + gate, h, a + g);
        }

        // gate[t] = W_gate [h_t; g_t] + b_gate, without forming the concatenation: row o of
        // W_gate is [row o of the h half | row o of the g half].
        template <class S>
        static void gate_forward(const S* __restrict Wg, const S* __restrict bg, const S* __restrict h,
                                 const S* __restrict gv, S* __restrict out, int n) {
            for (int t = 0; t < n; ++t) {
                const S* ht = h + t * W;    // [d]
                const S* gt = gv + t * W;   // [d]
                for (int o = 0; o < W; ++o) {
                    const S* wh = Wg + o * 2 * W;   // [d]
                    const S* wg = wh + W;           // [d]
                    S acc = 0;
                    GFLOW_SIMD_SUM
                    for (int i = 0; i < W; ++i) acc += wh[i] * ht[i] + wg[i] * gt[i];
                    out[t * W + o] = acc + bg[o];
                }
            }
        }
        // dW_gate += dgate [h; g]ᵀ, db_gate += dgate, dh += W_h ᵀ dgate, dg += W_g ᵀ dgate
        template <class S>
        static void gate_backward(const S* __restrict Wg, S* __restrict dWg, S* __restrict dbg,
                                  const S* __restrict h, const S* __restrict gv,
                                  const S* __restrict dgate_, S* __restrict dh, S* __restrict dgv,
                                  int n) {
            for (int t = 0; t < n; ++t) {
                const S* ht = h + t * W;     // [d]
                const S* gt = gv + t * W;    // [d]
                S* dht = dh + t * W;         // [d]
                S* dgt = dgv + t * W;        // [d]
                for (int o = 0; o < W; ++o) {
                    const S d = dgate_[t * W + o];
                    const S* wh = Wg + o * 2 * W;
                    const S* wg = wh + W;
                    S* dwh = dWg + o * 2 * W;
                    S* dwg = dwh + W;
                    dbg[o] += d;
                    GFLOW_SIMD
                    for (int i = 0; i < W; ++i) {
                        dwh[i] += d * ht[i];
                        dht[i] += d * wh[i];
                        dwg[i] += d * gt[i];
                        dgt[i] += d * wg[i];
                    }
                }
            }
        }
    };
};

// grassmann_paper<32>(offsets<1, 2, 4, 8, 12, 16>): the paper's mixer, p / max(|p|, ε);
// grassmann_paper<32, plucker_norm::smooth>(...): the same with the reference's p / sqrt(|p|² + 1e-8)
// (docs/benchmarks.md#paper-vs-reference).
template <int R, plucker_norm Norm = plucker_norm::max, int... Offsets>
constexpr grassmann_paper_t<R, Norm, Offsets...> grassmann_paper(window_t<Offsets...>) { return {}; }

}  // namespace gflow::terms
