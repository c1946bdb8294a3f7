// gflow/terms/grassmann.hpp: the Grassmann (Plücker) mixer of "Attention Is Not What You Need"
// (arXiv:2512.19428), in the microGrassmann form of docs/benchmarks.md#grassmann-mixer:
//
//   z_t  = W_red h_t                                          r x d
//   p_ij = z_t[i] z_{t-δ}[j] - z_t[j] z_{t-δ}[i],  i < j       C(r,2) Plücker coordinates
//   p̂    = p / sqrt(|p|^2 + 1e-8)
//   g_t  = W_plu · mean_δ p̂_δ   over the offsets with t-δ >= 0 (g_0 = 0)
//   α    = sigmoid(W_gate_h h_t + W_gate_g g_t);   out = α ⊙ h_t + (1 - α) ⊙ g_t
//
// The projection W_plu is applied once, to the mean of p̂ (it is linear). The Plücker pass fuses
// the coordinates, the normalisation and the mean into one loop per position; the gate and mix
// is a generated elementwise map (its backward comes from the same function).
// Cost per position: O(|window| (r d + C(r,2) d)); a sequence is O(L).
// Decoding keeps only the last max(window) reduced vectors z (constant memory per token).
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
#include <gflow/expr/plucker.hpp>

namespace gflow::terms {

template <int... Offsets>
struct window_t {};
// offsets<1, 2, 4>: the positions t-1, t-2, t-4 that a Grassmann layer pairs with t.
template <int... Offsets>
inline constexpr window_t<Offsets...> offsets{};

using expr::plucker_coordinates, expr::plucker_dot, expr::plucker_coordinates_backward, expr::plucker_flops,
    expr::plucker_rows_from;

namespace detail {
// α ⊙ h + (1 - α) ⊙ g with α = sigmoid(a): one fused loop forward, one generated loop backward.
struct gate_and_mix {
    template <class A, class H, class G>
    constexpr auto operator()(const A& a, const H& h, const G& g) const {
        const auto alpha = gflow::math::sigmoid(a);
        return alpha * h + (1 - alpha) * g;
    }
};
}  // namespace detail

template <int R, int... Offsets>
struct grassmann_t : term_base {
    static_assert(R >= 2, "gflow::grassmann<r>: r must be at least 2 (a Plücker coordinate needs "
                          "two dimensions)");
    static_assert(sizeof...(Offsets) >= 1,
                  "gflow::grassmann: the window is empty; give at least one offset, e.g. offsets<1>");
    static_assert(((Offsets >= 1) && ...),
                  "gflow::grassmann: every window offset must be at least 1 (a causal layer pairs "
                  "position t with an earlier t-δ)");

    static constexpr int r = R;
    static constexpr int pairs = R * (R - 1) / 2;   // C(r,2)
    static constexpr int K = sizeof...(Offsets);
    static constexpr std::array<int, K> window{Offsets...};
    static constexpr int max_offset = std::max({Offsets...});

    template <dims C, int W>
    struct impl {
        static_assert(W > 0, "gflow::grassmann: needs an input vector (it cannot start a model)");
        static constexpr int in_width = W, out_width = W, P = pairs, T = C.block;

        // parameters, in the order of docs/benchmarks.md#parameter-names
        static constexpr std::size_t W_red = 0;                          // [r][d]
        static constexpr std::size_t W_plu = W_red + R * W;              // [d][C(r,2)]
        static constexpr std::size_t W_gate_h = W_plu + W * P;           // [d][d]
        static constexpr std::size_t W_gate_g = W_gate_h + W * W;        // [d][d]
        static constexpr std::size_t param_size = W_gate_g + W * W;

        // activations, per sequence
        static constexpr std::size_t z = 0;                              // [T][r]
        static constexpr std::size_t phat = z + T * R;                   // [T][K][C(r,2)]
        static constexpr std::size_t inv_norm = phat + T * K * P;        // [T][K]
        static constexpr std::size_t pbar = inv_norm + T * K;            // [T][C(r,2)] mean of p̂
        static constexpr std::size_t g = pbar + T * P;                   // [T][d]
        static constexpr std::size_t gate = g + T * W;                   // [T][d] pre-sigmoid
        static constexpr std::size_t dz = gate + T * W;                  // [T][r]
        static constexpr std::size_t dpbar = dz + T * R;                 // [T][C(r,2)]
        static constexpr std::size_t dg = dpbar + T * P;                 // [T][d]
        static constexpr std::size_t dgate = dg + T * W;                 // [T][d]
        static constexpr std::size_t dp_scratch = dgate + T * W;         // [C(r,2)] one pair's dp
        static constexpr std::size_t act_size = dp_scratch + P;

        static constexpr std::size_t state_size = std::size_t(max_offset) * R;   // ring of z
        static constexpr flop_count flops(long length) {
            return product_flops(length, W, R) + plucker_flops<R>(length, window) + product_flops(length, P, W) +
                   product_flops(length, W, W) * 2;
        }

        static constexpr auto pair_index = [] {
            std::array<std::array<int, 2>, P> ij{};
            int k = 0;
            for (int i = 0; i < R; ++i)
                for (int j = i + 1; j < R; ++j) ij[k++] = {i, j};
            return ij;
        }();

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            f(param_desc{prefix + "W_red", R, W, offset + W_red});
            f(param_desc{prefix + "W_plu", W, P, offset + W_plu});
            f(param_desc{prefix + "W_gate_h", W, W, offset + W_gate_h});
            f(param_desc{prefix + "W_gate_g", W, W, offset + W_gate_g});
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, fmt::format("grassmann<r={}> window {}", R, window), W, W,
                            param_size, act_size});
        }

        // ---- forward -------------------------------------------------------------------------
        template <class S>
        static void forward(const pass& p, const S* w, S* a, const S* h, S* y) {
            kernels::matvec_rows<R, W>(w + W_red, h, a + z, p.n);
            for (int t = 0; t < p.n; ++t)
                plucker_mean(t, a + z + t * R, [&](int s) { return a + z + s * R; }, a);
            mix(p.n, w, a, h, y);
        }

        // ---- backward (reverse order of forward) ---------------------------------------------
        template <class S>
        static void backward(const pass& p, const S* w, S* dw, S* a, const S* h, const S*,
                             const S* dy, S* dh) {
            const int n = p.n;
            kernels::zero(a + dg, n * W);
            kernels::zero(a + dgate, n * W);
            // out = gate_and_mix(a, h, g): generated partials for the pre-gate, h and g
            kernels::map_backward<detail::gate_and_mix, 3>(
                n * W, dy, {a + gate, h, a + g}, {a + dgate, dh, a + dg});
            kernels::matvec_rows_backward<W, W>(w + W_gate_h, dw + W_gate_h, h, a + dgate, dh, n);
            kernels::matvec_rows_backward<W, W>(w + W_gate_g, dw + W_gate_g, a + g, a + dgate, a + dg, n);
            kernels::zero(a + dpbar, n * P);
            kernels::matvec_rows_backward<W, P>(w + W_plu, dw + W_plu, a + pbar, a + dg, a + dpbar, n);
            kernels::zero(a + dz, n * R);
            for (int t = 0; t < n; ++t) plucker_mean_backward(t, a);
            kernels::matvec_rows_backward<R, W>(w + W_red, dw + W_red, h, a + dz, dh, n);
        }

        // ---- one generated token: pairs with the ring of the last max(window) z -----------------
        template <class S>
        static void decode(const pass& p, const S* w, S* a, S* ring, const S* h, S* y) {
            const int t = p.first_position;
            S* zt = a + z;
            kernels::matvec_rows<R, W>(w + W_red, h, zt, 1);
            plucker_mean(0, zt, [&](int s) { return ring + ((s + t) % max_offset) * R; }, a, t);
            mix(1, w, a, h, y);
            for (int i = 0; i < R; ++i) ring[(t % max_offset) * R + i] = zt[i];
        }

    private:
        // p̂ for each offset that exists at position t (= row + position_shift), and their mean.
        // earlier(s) gives z at row s (s may be negative in decode, where rows are relative).
        template <class S, class Earlier>
        static void plucker_mean(int row, const S* zt, Earlier earlier, S* a, int position_shift = 0) {
            S* mean = a + pbar + row * P;
            for (int c = 0; c < P; ++c) mean[c] = 0;
            int count = 0;
            for (int k = 0; k < K; ++k) {
                const int delta = window[k];
                if (row + position_shift - delta < 0) continue;
                const S* u = earlier(row - delta);
                S* ph = a + phat + (row * K + k) * P;
                const S ss = plucker_coordinates<R>(zt, u, ph);
                const S inv = S(1) / std::sqrt(ss + S(1e-8));
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
            const S* dmean = a + dpbar + t * P;
            const S* zt = a + z + t * R;
            S* dzt = a + dz + t * R;
            for (int k = 0; k < K; ++k) {
                const int s = t - window[k];
                if (s < 0) continue;
                const S* u = a + z + s * R;
                S* du = a + dz + s * R;
                const S* ph = a + phat + (t * K + k) * P;
                const S inv = a[inv_norm + t * K + k];
                // d p̂ = dmean / count;  dp = (dp̂ - p̂ (p̂ . dp̂)) / |p|_eps
                const S dot = plucker_dot<R>(ph, dmean), scale = inv / S(count);
                S* dp = a + dp_scratch;   // [C(r,2)]
                GFLOW_SIMD
                for (int c = 0; c < P; ++c) dp[c] = (dmean[c] - ph[c] * dot) * scale;
                plucker_coordinates_backward<R>(dp, zt, u, dzt, du);
            }
        }

        // g = W_plu p̄; gate = W_gate_h h + W_gate_g g; out = α ⊙ h + (1 - α) ⊙ g
        template <class S>
        static void mix(int n, const S* w, S* a, const S* h, S* y) {
            kernels::matvec_rows<W, P>(w + W_plu, a + pbar, a + g, n);
            kernels::matvec_rows<W, W>(w + W_gate_h, h, a + gate, n);
            kernels::matvec_rows_add<W, W>(w + W_gate_g, a + g, a + gate, n);
            kernels::map_forward<detail::gate_and_mix>(n * W, y, a + gate, h, a + g);
        }
    };
};

// grassmann<4>(offsets<1, 2, 4, 8, 12, 16>)
template <int R, int... Offsets>
constexpr grassmann_t<R, Offsets...> grassmann(window_t<Offsets...>) { return {}; }

}  // namespace gflow::terms
