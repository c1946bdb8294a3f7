// names_fused: the yardstick of gflow's speed on benchmark 1 (docs/benchmarks.md#names). The
// 1-layer names model of examples/names_model.hpp,
//
//   (token_embedding + position_embedding) >> rmsnorm
//   >> residual(rmsnorm >> mixer) >> residual(rmsnorm >> ffn<4>(relu)) >> lm_head
//   vocab 27, block 16, width 16;  mixer: grassmann<4>(offsets<1, 2, 4, 8, 12, 16>) or attention<4>
//
// trained by a hand-written, fused C++ step: every buffer static, nothing allocated, f32 and f64.
// What makes it fast, none of it -ffast-math:
//   - each dense map is kept twice, [out][in] (gflow's layout, read by rows by dx = W^T dy) and
//     transposed [in][out] (read by rows by y = W x): every product is rows of broadcast
//     multiply-adds into register accumulators, a block of positions at a time, never a
//     horizontal sum; after Adam the updated matrix is transposed in registers into the other;
//   - Adam is fused into the backward: as soon as a matrix's gradient is complete, each row of it
//     is formed in registers and used at once; there is no gradient buffer and no separate pass;
//   - exp is a vectorisable polynomial (Cephes), so the softmax and the sigmoid gate vectorise;
//   - attention runs all heads at once on rows whose lanes carry their head's weight.
// In one run the program checks that it computes what gflow computes (the gradients of the same
// documents from the same weights, then the weights after Adam steps) and exits 1 if not, then
// times gflow's train_step and the fused step on the same documents, interleaved, f32 and f64.
//
//   names_fused [--data PATH] [--mixer grassmann|attention|both] [--dtype f32|f64|both] [--json]
//               [--check-only] [--chunks N] [--chunk-steps N] [--check-steps N] [--seed N]
#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <gflow/bench/bench.hpp>
#include <gflow/bench/run.hpp>
#include <gflow/core/exp.hpp>
#include <gflow/io/text_data.hpp>
#include <gflow/network.hpp>
#include <gflow/optim/adam.hpp>

#include "names_model.hpp"

#define FUSED_PRAGMA(x) _Pragma(#x)
#define FUSED_SIMD FUSED_PRAGMA(omp simd)
#define FUSED_UNROLL FUSED_PRAGMA(GCC unroll 16)

namespace fused {

constexpr int V = 27, T = 16, D = 16, R = 4, P = R * (R - 1) / 2, F = 4 * D, K = 6;
constexpr int VP = 32;   // the logits, padded to whole vectors
constexpr int RP = 16;   // z = W_red h, padded to whole vectors
constexpr int PP = 16;   // d p̄, padded to whole vectors
constexpr int window[K] = {1, 2, 4, 8, 12, 16};
constexpr int pair_i[P] = {0, 0, 0, 1, 1, 2}, pair_j[P] = {1, 2, 3, 2, 3, 3};
constexpr double rms_eps = 1e-5, plucker_eps = 1e-8;

// ---- vectors ------------------------------------------------------------------------------------
// GCC/Clang vector extensions, as wide as the target's registers (64 bytes with AVX-512; at least
// 32, as two registers, on older targets, where GCC notes that a 32-byte vector argument's ABI
// differs without AVX: irrelevant here, everything is inlined in this one file).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#if defined(__AVX512F__)
constexpr int vector_bytes = 64;
#else
constexpr int vector_bytes = 32;
#endif
template <class S>
using vec [[gnu::vector_size(vector_bytes)]] = S;
template <class S>
constexpr int lanes = vector_bytes / int(sizeof(S));

template <class S>
inline vec<S> load(const S* p) {
    vec<S> v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <class S, class Vec>
inline void store(S* p, Vec v) {
    static_assert(sizeof(Vec) == vector_bytes);
    std::memcpy(p, &v, sizeof v);
}

// out[t][0:W] (+)= sum_{r < Rows} c[t][r] * M[r][0:W] for t < n: a product of every position's row
// (c, stride CS) with a matrix M (rows of stride MS) into out (stride OS). Positions go in blocks of
// TB that share each row of M; each output vector has SP partial sums (rows r = j mod SP), so that
// TB * NV * SP >= 8 register accumulators hide the multiply-add latency. Blocks are independent.
template <int TB, int Rows, int W, int MS, int CS, int OS, bool Accumulate, class S>
inline void product_block(const S* __restrict M, const S* __restrict c, S* __restrict out) {
    constexpr int L = lanes<S>, NV = W / L;
    constexpr int SP0 = TB * NV >= 8 ? 1 : 8 / (TB * NV);
    constexpr int SP = SP0 < Rows ? SP0 : Rows;
    vec<S> acc[SP][TB][NV];
    FUSED_UNROLL
    for (int j = 0; j < SP; ++j)
        FUSED_UNROLL
        for (int b = 0; b < TB; ++b)
            FUSED_UNROLL
            for (int k = 0; k < NV; ++k) acc[j][b][k] = vec<S>{};
    for (int r0 = 0; r0 < Rows; r0 += SP)
        FUSED_UNROLL
        for (int j = 0; j < SP; ++j) {
            const int r = r0 + j;
            if (r >= Rows) break;
            vec<S> m[NV];
            FUSED_UNROLL
            for (int k = 0; k < NV; ++k) m[k] = load(M + r * MS + k * L);
            FUSED_UNROLL
            for (int b = 0; b < TB; ++b) {
                const S cb = c[b * CS + r];
                FUSED_UNROLL
                for (int k = 0; k < NV; ++k) acc[j][b][k] += cb * m[k];
            }
        }
    FUSED_UNROLL
    for (int b = 0; b < TB; ++b)
        FUSED_UNROLL
        for (int k = 0; k < NV; ++k) {
            vec<S> sum = Accumulate ? load(out + b * OS + k * L) : vec<S>{};
            FUSED_UNROLL
            for (int j = 0; j < SP; ++j) sum += acc[j][b][k];
            store(out + b * OS + k * L, sum);
        }
}

template <int Rows, int W, int MS, int CS, int OS, bool Accumulate, class S>
inline void product(const S* __restrict M, const S* __restrict c, S* __restrict out, int n) {
    constexpr int NV = W / lanes<S>;
    static_assert(W % lanes<S> == 0);
    constexpr int TB = NV >= 8 ? 1 : 8 / NV;   // 8 accumulators cover the multiply-add latency
    int t = 0;
    for (; t + TB <= n; t += TB) product_block<TB, Rows, W, MS, CS, OS, Accumulate>(M, c + t * CS, out + t * OS);
    if constexpr (TB >= 8)
        if (t + 4 <= n) {
            product_block<4, Rows, W, MS, CS, OS, Accumulate>(M, c + t * CS, out + t * OS);
            t += 4;
        }
    if constexpr (TB >= 4)
        if (t + 2 <= n) {
            product_block<2, Rows, W, MS, CS, OS, Accumulate>(M, c + t * CS, out + t * OS);
            t += 2;
        }
    for (; t < n; ++t) product_block<1, Rows, W, MS, CS, OS, Accumulate>(M, c + t * CS, out + t * OS);
}

// out[0:W] = sum_{t < n} c[t * CS] * M[t][0:W] for a run-time n (the weight gradients).
template <int W, int MS, int CS, class S>
inline void combine_positions(const S* __restrict M, const S* __restrict c, int n, S* __restrict out) {
    constexpr int L = lanes<S>, NV = W / L;
    static_assert(W % L == 0);
    vec<S> acc0[NV], acc1[NV];
    FUSED_UNROLL
    for (int k = 0; k < NV; ++k) acc0[k] = acc1[k] = vec<S>{};
    int t = 0;
    for (; t + 1 < n; t += 2) {
        const S c0 = c[t * CS], c1 = c[(t + 1) * CS];
        FUSED_UNROLL
        for (int k = 0; k < NV; ++k) {
            acc0[k] += c0 * load(M + t * MS + k * L);
            acc1[k] += c1 * load(M + (t + 1) * MS + k * L);
        }
    }
    if (t < n) {
        const S c0 = c[t * CS];
        FUSED_UNROLL
        for (int k = 0; k < NV; ++k) acc0[k] += c0 * load(M + t * MS + k * L);
    }
    FUSED_UNROLL
    for (int k = 0; k < NV; ++k) store(out + k * L, acc0[k] + acc1[k]);
}

// dst[c][r] = src[r][c] for a Rows x Cols matrix, both multiples of the vector length, in blocks of
// L x L transposed in registers: log2(L) stages of two-vector shuffles, stage B exchanging bit B of
// the row index with bit B of the column index.
template <int L, int B, bool High>
constexpr std::array<int, L> exchange_mask() {
    std::array<int, L> m{};
    for (int j = 0; j < L; ++j) {
        const bool bit = (j & B) != 0;
        m[j] = High ? (bit ? L + j : j + B) : (bit ? L + j - B : j);
    }
    return m;
}
template <int B, bool High, class Vec, std::size_t... J>
inline Vec exchange(Vec a, Vec b, std::index_sequence<J...>) {
    constexpr auto m = exchange_mask<int(sizeof...(J)), B, High>();
    return __builtin_shufflevector(a, b, m[J]...);
}
template <int B, int L, class Vec>
inline void transpose_stages(Vec (&r)[L]) {
    if constexpr (B < L) {
        FUSED_UNROLL
        for (int i = 0; i < L; ++i)
            if ((i & B) == 0) {
                const Vec a = r[i], b = r[i + B];
                r[i] = exchange<B, false>(a, b, std::make_index_sequence<L>{});
                r[i + B] = exchange<B, true>(a, b, std::make_index_sequence<L>{});
            }
        transpose_stages<2 * B>(r);
    }
}
template <int Rows, int Cols, int SS, int DS, class S>
inline void transpose(const S* __restrict src, S* __restrict dst) {
    constexpr int L = lanes<S>;
    static_assert(Rows % L == 0 && Cols % L == 0);
    for (int r0 = 0; r0 < Rows; r0 += L)
        for (int c0 = 0; c0 < Cols; c0 += L) {
            vec<S> r[L];
            FUSED_UNROLL
            for (int i = 0; i < L; ++i) r[i] = load(src + (r0 + i) * SS + c0);
            transpose_stages<1>(r);
            FUSED_UNROLL
            for (int i = 0; i < L; ++i) store(dst + (c0 + i) * DS + r0, r[i]);
        }
}

// ---- a vectorisable exp (no -ffast-math): gflow's own (include/gflow/core/exp.hpp) ---------------
using gflow::vexp;
template <class S>
inline S sigmoid(S x) { return S(1) / (S(1) + vexp(-x)); }

// ---- Adam (gflow/optim/adam.hpp, the same expression, so the same rounding) -----------------------
template <class S>
struct adam_step {
    S b1, b2, c1, c2, eps, m_scale, v_scale, rate;
    adam_step(const gflow::adam& o, int step)
        : b1(S(o.beta1)), b2(S(o.beta2)), c1(S(1) - b1), c2(S(1) - b2), eps(S(o.epsilon)),
          m_scale(S(1.0 / (1.0 - std::pow(o.beta1, step + 1)))),
          v_scale(S(1.0 / (1.0 - std::pow(o.beta2, step + 1)))), rate(S(o.rate_at(step))) {}
};

template <int N, class S>
inline void adam_update(const adam_step<S>& a, S* __restrict w, const S* __restrict g, S* __restrict m,
                        S* __restrict v) {
    FUSED_SIMD
    for (int i = 0; i < N; ++i) {
        m[i] = a.b1 * m[i] + a.c1 * g[i];
        v[i] = a.b2 * v[i] + a.c2 * g[i] * g[i];
        w[i] -= a.rate * (m[i] * a.m_scale) / (std::sqrt(v[i] * a.v_scale) + a.eps);
    }
}

// ---- the parameters -------------------------------------------------------------------------------
// A dense map y = W x: W [O][In] as gflow stores it, read by rows by the backward dx = W^T dy, and
// its transpose [In][O], read by rows by the forward y = W x; both padded with zeros to [OP][IP] and
// [IP][OP] (multiples of the vector length). Adam runs over the rows of one of the two (the longer
// rows: AdamOnTranspose for the transpose), then the updated matrix is transposed into the other.
template <class S, int O, int In, int OP, int IP, bool AdamOnTranspose>
struct dense {
    static constexpr int adam_rows = AdamOnTranspose ? In : O, adam_cols = AdamOnTranspose ? OP : IP;
    alignas(64) S w[OP][IP];
    alignas(64) S wt[IP][OP];
    alignas(64) S m[adam_rows][adam_cols];
    alignas(64) S v[adam_rows][adam_cols];
    alignas(64) S grad[O][In];   // only in the check (gradient) mode

    void set(const S* src) {
        std::memset(w, 0, sizeof w);
        std::memset(wt, 0, sizeof wt);
        for (int o = 0; o < O; ++o)
            for (int i = 0; i < In; ++i) w[o][i] = wt[i][o] = src[o * In + i];
        std::memset(m, 0, sizeof m);
        std::memset(v, 0, sizeof v);
    }
    void get(S* dst) const {
        for (int o = 0; o < O; ++o)
            for (int i = 0; i < In; ++i) dst[o * In + i] = w[o][i];
    }
};

// Calls f(name, size, get, set, gradient) for one dense map: get copies the weights out in gflow's
// layout, set copies them in (and zeroes Adam's moments), gradient is the check mode's.
template <class S, class F, int O, int In, int OP, int IP, bool AT>
void visit(F& f, const char* name, dense<S, O, In, OP, IP, AT>& d) {
    f(name, std::size_t(O) * In, [&](S* dst) { d.get(dst); }, [&](const S* src) { d.set(src); }, &d.grad[0][0]);
}

// ---- Adam fused into the weight gradient of a dense map --------------------------------------------
// The gradient of W is sum_t dy[t] x[t]^T (dy rows of stride DS, x rows of stride XS). Train: each
// row of it is formed in registers and Adam updates that row of the weights; then the matrix is
// transposed into its other layout. Check: the gradient is stored in d.grad instead.
template <bool Train, int XS, int DS, class S, int O, int In, int OP, int IP, bool AT>
inline void gradient_step(dense<S, O, In, OP, IP, AT>& d, const S* x, const S* dy, int n, const adam_step<S>& a) {
    if constexpr (AT) {   // rows of the transpose: g[i][:] = sum_t x[t][i] dy[t][:]
        for (int i = 0; i < In; ++i) {
            alignas(64) S g[OP];
            combine_positions<OP, DS, XS>(dy, x + i, n, g);
            if constexpr (Train) adam_update<OP>(a, d.wt[i], g, d.m[i], d.v[i]);
            else
                for (int o = 0; o < O; ++o) d.grad[o][i] = g[o];
        }
        if constexpr (Train) transpose<IP, OP, OP, IP>(&d.wt[0][0], &d.w[0][0]);
    } else {              // rows of W: g[o][:] = sum_t dy[t][o] x[t][:]
        for (int o = 0; o < O; ++o) {
            alignas(64) S g[IP];
            combine_positions<IP, XS, DS>(x, dy + o, n, g);
            if constexpr (Train) adam_update<IP>(a, d.w[o], g, d.m[o], d.v[o]);
            else std::memcpy(d.grad[o], g, sizeof(S) * In);
        }
        if constexpr (Train) transpose<OP, IP, IP, OP>(&d.w[0][0], &d.wt[0][0]);
    }
}

template <int W, class S>
inline S inverse_rms(const S* x) {
    S acc = 0;
    FUSED_PRAGMA(omp simd reduction(+ : acc))
    for (int i = 0; i < W; ++i) acc += x[i] * x[i];
    return S(1) / std::sqrt(acc / S(W) + S(rms_eps));
}

// ---- the Grassmann mixer ---------------------------------------------------------------------------
//   z = W_red h;  p̄_t = mean over the offsets δ with t-δ >= 0 of p̂(z_t, z_{t-δ});  g = W_plu p̄
//   α = sigmoid(W_gate_h h + W_gate_g g);   x1 = x0 + α h + (1 - α) g
template <class S>
struct grassmann {
    static constexpr const char* name = "grassmann";
    struct parameters {
        dense<S, R, D, RP, D, false> red;      // layer0.W_red     [r][d]
        dense<S, D, P, D, PP, true> plu;       // layer0.W_plu     [d][C(r,2)]
        dense<S, D, D, D, D, false> gate_h;    // layer0.W_gate_h  [d][d]
        dense<S, D, D, D, D, false> gate_g;    // layer0.W_gate_g  [d][d]
    };
    struct activations {
        alignas(64) S z[T][RP], pbar[T][P], phat[T][K][P], inv_norm[T][K], g[T][D], alpha[T][D];
        alignas(64) S dgate[T][D], dg[T][D], dpbar[T][PP], dz[T][R];
    };
    template <class F>
    static void for_each_tensor(parameters& p, F&& f) {
        visit(f, "layer0.W_red", p.red);
        visit(f, "layer0.W_plu", p.plu);
        visit(f, "layer0.W_gate_h", p.gate_h);
        visit(f, "layer0.W_gate_g", p.gate_g);
    }

    static void forward(parameters& p, activations& A, int n, const S (*h1)[D], const S (*x0)[D], S (*x1)[D]) {
        product<D, RP, RP, D, RP, false>(&p.red.wt[0][0], &h1[0][0], &A.z[0][0], n);
        // the Plücker mean: p̂ of each offset that exists at t, and their mean
        for (int t = 0; t < n; ++t) {
            S mean[P] = {};
            int count = 0;
            for (int k = 0; k < K; ++k) {
                const int s = t - window[k];
                if (s < 0) continue;
                const S* zt = A.z[t];
                const S* u = A.z[s];
                S* ph = A.phat[t][k];
                S ss = 0;
                for (int c = 0; c < P; ++c) {
                    ph[c] = zt[pair_i[c]] * u[pair_j[c]] - zt[pair_j[c]] * u[pair_i[c]];
                    ss += ph[c] * ph[c];
                }
                const S inv = S(1) / std::sqrt(ss + S(plucker_eps));
                A.inv_norm[t][k] = inv;
                for (int c = 0; c < P; ++c) {
                    ph[c] *= inv;
                    mean[c] += ph[c];
                }
                ++count;
            }
            if (count > 1)
                for (int c = 0; c < P; ++c) mean[c] /= S(count);
            for (int c = 0; c < P; ++c) A.pbar[t][c] = mean[c];
        }
        product<P, D, D, P, D, false>(&p.plu.wt[0][0], &A.pbar[0][0], &A.g[0][0], n);
        product<D, D, D, D, D, false>(&p.gate_h.wt[0][0], &h1[0][0], &A.alpha[0][0], n);
        product<D, D, D, D, D, true>(&p.gate_g.wt[0][0], &A.g[0][0], &A.alpha[0][0], n);
        const int nd = n * D;
        const S* x = &x0[0][0];
        const S* h = &h1[0][0];
        const S* g = &A.g[0][0];
        S* alpha = &A.alpha[0][0];   // the gate, then α
        S* y = &x1[0][0];
        FUSED_SIMD
        for (int i = 0; i < nd; ++i) {
            const S s = sigmoid(alpha[i]);
            alpha[i] = s;
            y[i] = x[i] + (s * h[i] + (S(1) - s) * g[i]);
        }
    }

    // dh1 = the mixer's input gradient for the output gradient dx1; the mixer's weights are updated
    // (Train) or their gradients stored (check).
    template <bool Train>
    static void backward(parameters& p, activations& A, int n, const S (*h1)[D], const S (*dx1)[D], S (*dh1)[D],
                         const adam_step<S>& adam) {
        // d gate = dx1 α(1-α)(h1 - g), dh1 = dx1 α (+ W_gate_h^T d gate), dg = dx1 (1-α) (+ ...)
        {
            const int nd = n * D;
            const S* d = &dx1[0][0];
            const S* alpha = &A.alpha[0][0];
            const S* h = &h1[0][0];
            const S* g = &A.g[0][0];
            S* dgate = &A.dgate[0][0];
            S* dh = &dh1[0][0];
            S* dg = &A.dg[0][0];
            FUSED_SIMD
            for (int i = 0; i < nd; ++i) {
                const S s = alpha[i];
                dgate[i] = d[i] * (s * (S(1) - s)) * (h[i] - g[i]);
                dh[i] = d[i] * s;
                dg[i] = d[i] * (S(1) - s);
            }
        }
        product<D, D, D, D, D, true>(&p.gate_h.w[0][0], &A.dgate[0][0], &dh1[0][0], n);
        product<D, D, D, D, D, true>(&p.gate_g.w[0][0], &A.dgate[0][0], &A.dg[0][0], n);
        product<D, PP, PP, D, PP, false>(&p.plu.w[0][0], &A.dg[0][0], &A.dpbar[0][0], n);
        gradient_step<Train, D, D>(p.gate_h, &h1[0][0], &A.dgate[0][0], n, adam);
        gradient_step<Train, D, D>(p.gate_g, &A.g[0][0], &A.dgate[0][0], n, adam);
        gradient_step<Train, P, D>(p.plu, &A.pbar[0][0], &A.dg[0][0], n, adam);

        // the Plücker backward: d p = (d p̂ - p̂ (p̂ . d p̂)) / |p|_eps, d p̂ = d p̄ / count
        std::memset(A.dz, 0, sizeof(S) * std::size_t(n) * R);
        for (int t = 1; t < n; ++t) {
            int count = 0;
            for (int k = 0; k < K; ++k) count += (t - window[k] >= 0);
            const S* dmean = A.dpbar[t];
            const S* zt = A.z[t];
            S* dzt = A.dz[t];
            for (int k = 0; k < K; ++k) {
                const int s = t - window[k];
                if (s < 0) continue;
                const S* u = A.z[s];
                S* du = A.dz[s];
                const S* ph = A.phat[t][k];
                S dot = 0;
                for (int c = 0; c < P; ++c) dot += ph[c] * dmean[c];
                const S scale = A.inv_norm[t][k] / S(count);
                for (int c = 0; c < P; ++c) {
                    const S dp = (dmean[c] - ph[c] * dot) * scale;
                    const int i = pair_i[c], j = pair_j[c];
                    dzt[i] += dp * u[j];
                    dzt[j] -= dp * u[i];
                    du[j] += dp * zt[i];
                    du[i] -= dp * zt[j];
                }
            }
        }
        product<R, D, D, R, D, true>(&p.red.w[0][0], &A.dz[0][0], &dh1[0][0], n);
        gradient_step<Train, D, R>(p.red, &h1[0][0], &A.dz[0][0], n, adam);
    }
};

// ---- the attention mixer ---------------------------------------------------------------------------
//   q, k, v = W_q h, W_k h, W_v h;  per head: a_ts = softmax_{s <= t}(q_t . k_s / sqrt(d/H));
//   o_t = sum_s a_ts v_s;  x1 = x0 + W_o o
// All heads at once, in "expanded" rows of d lanes: lane c carries head c / (d/H). A head's score
// q_t . k_s is the sum of its group of d/H lanes of q_t * k_s (two shuffles and adds leave it in
// every lane of the group), so the softmax, o_t = sum_s a_s * v_s and the whole backward are
// elementwise multiply-adds of rows, without a horizontal sum.
template <int X, class Vec, std::size_t... I>
inline Vec swap_lanes(Vec p, std::index_sequence<I...>) {
    return __builtin_shufflevector(p, p, (int(I) ^ X)...);
}
template <int Group, class S>
inline vec<S> group_sum(vec<S> p) {
    static_assert(Group == 4 && lanes<S> % 4 == 0);
    p += swap_lanes<1>(p, std::make_index_sequence<lanes<S>>{});
    return p + swap_lanes<2>(p, std::make_index_sequence<lanes<S>>{});
}

template <class S>
struct attention {
    static constexpr const char* name = "attention";
    static constexpr int H = 4, DH = D / H, L = lanes<S>, NV = D / L;
    struct parameters {
        dense<S, D, D, D, D, false> wq, wk, wv, wo;   // layer0.attn_wq, _wk, _wv, _wo  [d][d]
    };
    struct activations {
        alignas(64) S q[T][D], k[T][D], v[T][D], o[T][D], mixed[T][D];
        alignas(64) S att[T][T][D];   // [t][s][lane]: the weight a_ts of lane's head, s <= t
        alignas(64) S d_o[T][D], dq[T][D], dk[T][D], dv[T][D];
    };
    template <class F>
    static void for_each_tensor(parameters& p, F&& f) {
        visit(f, "layer0.attn_wq", p.wq);
        visit(f, "layer0.attn_wk", p.wk);
        visit(f, "layer0.attn_wv", p.wv);
        visit(f, "layer0.attn_wo", p.wo);
    }

    static void forward(parameters& p, activations& A, int n, const S (*h1)[D], const S (*x0)[D], S (*x1)[D]) {
        product<D, D, D, D, D, false>(&p.wq.wt[0][0], &h1[0][0], &A.q[0][0], n);
        product<D, D, D, D, D, false>(&p.wk.wt[0][0], &h1[0][0], &A.k[0][0], n);
        product<D, D, D, D, D, false>(&p.wv.wt[0][0], &h1[0][0], &A.v[0][0], n);
        const S scale = S(1) / std::sqrt(S(DH));
        for (int t = 0; t < n; ++t) {
            S (*a)[D] = A.att[t];
            // scores of s <= t, and their maximum per head
            vec<S> qt[NV], mx[NV];
            FUSED_UNROLL
            for (int k = 0; k < NV; ++k) {
                qt[k] = load(A.q[t] + k * L);
                mx[k] = vec<S>{} + std::numeric_limits<S>::lowest();
            }
            for (int s = 0; s <= t; ++s)
                FUSED_UNROLL
                for (int k = 0; k < NV; ++k) {
                    const vec<S> score = group_sum<DH, S>(qt[k] * load(A.k[s] + k * L)) * scale;
                    store(a[s] + k * L, score);
                    mx[k] = mx[k] > score ? mx[k] : score;
                }
            alignas(64) S max_score[D];
            FUSED_UNROLL
            for (int k = 0; k < NV; ++k) store(max_score + k * L, mx[k]);
            // a = exp(score - max) / sum;  o_t = sum_s a_s v_s
            alignas(64) S total[D] = {};
            for (int s = 0; s <= t; ++s) {
                FUSED_SIMD
                for (int c = 0; c < D; ++c) {
                    const S e = vexp(a[s][c] - max_score[c]);
                    a[s][c] = e;
                    total[c] += e;
                }
            }
            alignas(64) S inv[D];
            FUSED_SIMD
            for (int c = 0; c < D; ++c) inv[c] = S(1) / total[c];
            alignas(64) S ot[D] = {};
            for (int s = 0; s <= t; ++s) {
                FUSED_SIMD
                for (int c = 0; c < D; ++c) {
                    a[s][c] *= inv[c];
                    ot[c] += a[s][c] * A.v[s][c];
                }
            }
            std::memcpy(A.o[t], ot, sizeof ot);
        }
        product<D, D, D, D, D, false>(&p.wo.wt[0][0], &A.o[0][0], &A.mixed[0][0], n);
        const int nd = n * D;
        const S* x = &x0[0][0];
        const S* m = &A.mixed[0][0];
        S* y = &x1[0][0];
        FUSED_SIMD
        for (int i = 0; i < nd; ++i) y[i] = x[i] + m[i];
    }

    template <bool Train>
    static void backward(parameters& p, activations& A, int n, const S (*h1)[D], const S (*dx1)[D], S (*dh1)[D],
                         const adam_step<S>& adam) {
        product<D, D, D, D, D, false>(&p.wo.w[0][0], &dx1[0][0], &A.d_o[0][0], n);
        gradient_step<Train, D, D>(p.wo, &A.o[0][0], &dx1[0][0], n, adam);
        std::memset(A.dk, 0, sizeof(S) * std::size_t(n) * D);
        std::memset(A.dv, 0, sizeof(S) * std::size_t(n) * D);
        const S scale = S(1) / std::sqrt(S(DH));
        for (int t = 0; t < n; ++t) {
            const S (*a)[D] = A.att[t];
            vec<S> dot[NV], qt[NV], weighted[NV], dqt[NV];
            FUSED_UNROLL
            for (int k = 0; k < NV; ++k) {
                dot[k] = load(A.d_o[t] + k * L);
                qt[k] = load(A.q[t] + k * L);
                weighted[k] = dqt[k] = vec<S>{};
            }
            // o_t = sum_s a_s v_s: da_s = do_t . v_s (per head), dv_s += a_s do_t
            alignas(64) S da[T][D];
            for (int s = 0; s <= t; ++s)
                FUSED_UNROLL
                for (int k = 0; k < NV; ++k) {
                    const vec<S> as = load(a[s] + k * L);
                    const vec<S> d = group_sum<DH, S>(dot[k] * load(A.v[s] + k * L));
                    store(da[s] + k * L, d);
                    weighted[k] += as * d;
                    store(A.dv[s] + k * L, load(A.dv[s] + k * L) + as * dot[k]);
                }
            // softmax: d score_s = a_s (da_s - sum_j a_j da_j); score = scale q_t . k_s
            for (int s = 0; s <= t; ++s)
                FUSED_UNROLL
                for (int k = 0; k < NV; ++k) {
                    const vec<S> dscore = load(a[s] + k * L) * (load(da[s] + k * L) - weighted[k]) * scale;
                    dqt[k] += dscore * load(A.k[s] + k * L);
                    store(A.dk[s] + k * L, load(A.dk[s] + k * L) + dscore * qt[k]);
                }
            FUSED_UNROLL
            for (int k = 0; k < NV; ++k) store(A.dq[t] + k * L, dqt[k]);
        }
        product<D, D, D, D, D, false>(&p.wq.w[0][0], &A.dq[0][0], &dh1[0][0], n);
        product<D, D, D, D, D, true>(&p.wk.w[0][0], &A.dk[0][0], &dh1[0][0], n);
        product<D, D, D, D, D, true>(&p.wv.w[0][0], &A.dv[0][0], &dh1[0][0], n);
        gradient_step<Train, D, D>(p.wq, &h1[0][0], &A.dq[0][0], n, adam);
        gradient_step<Train, D, D>(p.wk, &h1[0][0], &A.dk[0][0], n, adam);
        gradient_step<Train, D, D>(p.wv, &h1[0][0], &A.dv[0][0], n, adam);
    }
};

// ---- the whole model ---------------------------------------------------------------------------------
template <class S, template <class> class Mixer>
struct model {
    using mixer = Mixer<S>;
    struct parameters {
        alignas(64) S wte[V][D];
        alignas(64) S wpe[T][D];
        alignas(64) S wte_m[V][D], wte_v[V][D], wpe_m[T][D], wpe_v[T][D];
        alignas(64) S wte_grad[V][D], wpe_grad[T][D];
        typename mixer::parameters mix;
        dense<S, F, D, F, D, true> fc1;        // layer0.mlp_fc1   [4d][d]
        dense<S, D, F, D, F, false> fc2;       // layer0.mlp_fc2   [d][4d]
        dense<S, V, D, VP, D, false> head;     // lm_head          [V][d]
    };
    // One sequence's values and gradients, [T][...] each, rows t < n used.
    struct activations {
        alignas(64) S x0[T][D], h1[T][D], x1[T][D], h2[T][D], a[T][F], x2[T][D];
        alignas(64) S r0[T], r1[T], r2[T];
        alignas(64) S dl[T][VP], dx2[T][D], du[T][F], dh2[T][D], dx1[T][D], dh1[T][D];
        typename mixer::activations mix;
    };
    // Every buffer is static: one set per scalar type and mixer, sized at compile time.
    static inline parameters p;
    static inline activations A;

    template <class F>
    static void for_each_tensor(F&& f) {
        auto plain = [&](const char* name, S* w, std::size_t size, const S* grad, S* m, S* v) {
            f(name, size, [=](S* dst) { std::memcpy(dst, w, size * sizeof(S)); },
              [=](const S* src) {
                  std::memcpy(w, src, size * sizeof(S));
                  std::memset(m, 0, size * sizeof(S));
                  std::memset(v, 0, size * sizeof(S));
              },
              grad);
        };
        plain("wte", &p.wte[0][0], V * D, &p.wte_grad[0][0], &p.wte_m[0][0], &p.wte_v[0][0]);
        plain("wpe", &p.wpe[0][0], T * D, &p.wpe_grad[0][0], &p.wpe_m[0][0], &p.wpe_v[0][0]);
        mixer::for_each_tensor(p.mix, f);
        visit(f, "layer0.mlp_fc1", p.fc1);
        visit(f, "layer0.mlp_fc2", p.fc2);
        visit(f, "lm_head", p.head);
    }

    // One training step. Train: forward, backward and Adam; returns the mean loss of the document's
    // n predictions. !Train: forward and backward only, the gradients left in the *grad arrays.
    // Each phase is a loop over the positions whose iterations are independent (only the mixer
    // looks across positions), so that the processor overlaps them.
    template <bool Train>
    static S step(std::span<const int> tokens, const gflow::adam& opt, int step_index) {
        const int n = std::min<int>(T, int(tokens.size()) - 1);
        const int nd = n * D, nf = n * F;
        const adam_step<S> adam(opt, step_index);

        // ---- forward
        // embeddings and the two norms
        for (int t = 0; t < n; ++t) {
            alignas(64) S e[D];
            const S* te = p.wte[tokens[t]];
            FUSED_SIMD
            for (int i = 0; i < D; ++i) e[i] = te[i] + p.wpe[t][i];
            const S r0 = inverse_rms<D>(e);
            FUSED_SIMD
            for (int i = 0; i < D; ++i) A.x0[t][i] = e[i] * r0;
            const S r1 = inverse_rms<D>(A.x0[t]);
            FUSED_SIMD
            for (int i = 0; i < D; ++i) A.h1[t][i] = A.x0[t][i] * r1;
            A.r0[t] = r0;
            A.r1[t] = r1;
        }
        // x1 = x0 + mixer(h1)
        mixer::forward(p.mix, A.mix, n, A.h1, A.x0, A.x1);
        // x2 = x1 + fc2 relu(fc1 rmsnorm(x1))
        for (int t = 0; t < n; ++t) {
            const S r2 = inverse_rms<D>(A.x1[t]);
            A.r2[t] = r2;
            FUSED_SIMD
            for (int i = 0; i < D; ++i) A.h2[t][i] = A.x1[t][i] * r2;
        }
        product<D, F, F, D, F, false>(&p.fc1.wt[0][0], &A.h2[0][0], &A.a[0][0], n);
        {
            S* a = &A.a[0][0];
            FUSED_SIMD
            for (int j = 0; j < nf; ++j) a[j] = a[j] > S(0) ? a[j] : S(0);
        }
        product<F, D, D, F, D, false>(&p.fc2.wt[0][0], &A.a[0][0], &A.x2[0][0], n);
        {
            S* x2 = &A.x2[0][0];
            const S* x1 = &A.x1[0][0];
            FUSED_SIMD
            for (int i = 0; i < nd; ++i) x2[i] += x1[i];
        }
        // logits, the cross-entropy, and its gradient dl = (softmax - onehot) / n
        product<D, VP, VP, D, VP, false>(&p.head.wt[0][0], &A.x2[0][0], &A.dl[0][0], n);
        S total = 0;
        const S inv_n = S(1) / S(n);
        for (int t = 0; t < n; ++t) {
            S* dl = A.dl[t];
            S max_logit = dl[0];
            FUSED_PRAGMA(omp simd reduction(max : max_logit))
            for (int v = 0; v < V; ++v) max_logit = std::max(max_logit, dl[v]);
            const int target = tokens[t + 1];
            const S target_logit = dl[target];
            S sum = 0;
            FUSED_PRAGMA(omp simd reduction(+ : sum))
            for (int v = 0; v < VP; ++v) {
                const S e = v < V ? vexp(dl[v] - max_logit) : S(0);
                dl[v] = e;
                sum += e;
            }
            total += std::log(sum) + max_logit - target_logit;
            const S scale = S(1) / (sum * S(n));
            FUSED_SIMD
            for (int v = 0; v < VP; ++v) dl[v] *= scale;
            dl[target] -= inv_n;
        }

        // ---- backward: lm_head, the ffn (relu: the derivative at 0 is 0), its rmsnorm
        product<V, D, D, VP, D, false>(&p.head.w[0][0], &A.dl[0][0], &A.dx2[0][0], n);
        product<D, F, F, D, F, false>(&p.fc2.w[0][0], &A.dx2[0][0], &A.du[0][0], n);
        {
            S* du = &A.du[0][0];
            const S* a = &A.a[0][0];
            FUSED_SIMD
            for (int j = 0; j < nf; ++j) du[j] = a[j] > S(0) ? du[j] : S(0);
        }
        product<F, D, D, F, D, false>(&p.fc1.w[0][0], &A.du[0][0], &A.dh2[0][0], n);
        for (int t = 0; t < n; ++t) {   // dx1 = dx2 + r2 (dh2 - h2 mean(dh2 . h2))
            const S* h2 = A.h2[t];
            const S* dh2 = A.dh2[t];
            S dot = 0;
            FUSED_PRAGMA(omp simd reduction(+ : dot))
            for (int i = 0; i < D; ++i) dot += dh2[i] * h2[i];
            const S mean = dot / S(D), r2 = A.r2[t];
            FUSED_SIMD
            for (int i = 0; i < D; ++i) A.dx1[t][i] = A.dx2[t][i] + r2 * (dh2[i] - h2[i] * mean);
        }
        // lm_head and the ffn are done with: their gradients, and Adam
        gradient_step<Train, D, VP>(p.head, &A.x2[0][0], &A.dl[0][0], n, adam);
        gradient_step<Train, F, D>(p.fc2, &A.a[0][0], &A.dx2[0][0], n, adam);
        gradient_step<Train, D, F>(p.fc1, &A.h2[0][0], &A.du[0][0], n, adam);

        // the mixer: dh1, and its own weights
        mixer::template backward<Train>(p.mix, A.mix, n, A.h1, A.dx1, A.dh1, adam);

        // the two norms back to the embeddings: dx0 = dx1 + rmsnorm'(dh1), de = rmsnorm'(dx0)
        std::memset(p.wte_grad, 0, sizeof p.wte_grad);
        for (int t = 0; t < n; ++t) {
            const S* h1 = A.h1[t];
            const S* dh1 = A.dh1[t];
            S dot1 = 0;
            FUSED_PRAGMA(omp simd reduction(+ : dot1))
            for (int i = 0; i < D; ++i) dot1 += dh1[i] * h1[i];
            const S mean1 = dot1 / S(D), r1 = A.r1[t];
            alignas(64) S dx0[D];
            FUSED_SIMD
            for (int i = 0; i < D; ++i) dx0[i] = A.dx1[t][i] + r1 * (dh1[i] - h1[i] * mean1);
            const S* x0 = A.x0[t];
            S dot0 = 0;
            FUSED_PRAGMA(omp simd reduction(+ : dot0))
            for (int i = 0; i < D; ++i) dot0 += dx0[i] * x0[i];
            const S mean0 = dot0 / S(D), r0 = A.r0[t];
            S* dte = p.wte_grad[tokens[t]];
            S* dpe = p.wpe_grad[t];
            FUSED_SIMD
            for (int i = 0; i < D; ++i) {
                const S de = r0 * (dx0[i] - x0[i] * mean0);
                dte[i] += de;
                dpe[i] = de;
            }
        }
        std::memset(p.wpe_grad[n], 0, sizeof(S) * std::size_t(T - n) * D);
        if constexpr (Train) {
            adam_update<V * D>(adam, &p.wte[0][0], &p.wte_grad[0][0], &p.wte_m[0][0], &p.wte_v[0][0]);
            adam_update<T * D>(adam, &p.wpe[0][0], &p.wpe_grad[0][0], &p.wpe_m[0][0], &p.wpe_v[0][0]);
        }
        return total / S(n);
    }

    // Loads gflow's weights (and zeroes Adam's moments).
    template <class Net>
    static void load_from(Net& net) {
        for_each_tensor([&](const char* name, std::size_t size, auto, auto set, const S*) {
            const auto span = net.parameter(name);
            if (span.size() != size)
                throw std::logic_error(fmt::format("names_fused: parameter {} has {} values, not {}", name, span.size(), size));
            set(span.data());
        });
    }
};

}  // namespace fused

namespace {

using document = std::vector<int>;
// gflow's networks of the same models, and the fused step of each
template <template <class> class Mixer> struct gflow_model;
template <> struct gflow_model<fused::grassmann> {
    using type = std::remove_const_t<decltype(names::model<1>(names::grassmann_mixer))>;
};
template <> struct gflow_model<fused::attention> {
    using type = std::remove_const_t<decltype(names::model<1>(names::attention_mixer))>;
};
template <class S, template <class> class Mixer>
using net_type = gflow::network<typename gflow_model<Mixer>::type, S>;
static_assert(gflow_model<fused::grassmann>::type::parameter_count() == 3840);
static_assert(gflow_model<fused::attention>::type::parameter_count() == 4192);

struct flags {
    std::string data;
    std::string dtype = "both";
    std::string mixer = "both";
    bool json = false, check_only = false;
    int chunks = 30, chunk_steps = 100, check_steps = 20;
    std::uint64_t seed = 42;
};

flags parse(int argc, char** argv) {
    flags f;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) throw gflow::bench::usage_error(fmt::format("names_fused: {} needs a value", argv[i]));
        return argv[++i];
    };
    auto positive = [&](int& i) {
        const std::string flag = argv[i], text = value(i);
        std::size_t used = 0;
        int v = 0;
        try {
            v = std::stoi(text, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != text.size() || v < 1)
            throw gflow::bench::usage_error(fmt::format("names_fused: {} needs a positive integer, not '{}'", flag, text));
        return v;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--data") f.data = value(i);
        else if (a == "--dtype") {
            f.dtype = value(i);
            if (f.dtype != "f32" && f.dtype != "f64" && f.dtype != "both")
                throw gflow::bench::usage_error("names_fused: --dtype is f32, f64 or both");
        } else if (a == "--mixer") {
            f.mixer = value(i);
            if (f.mixer != "grassmann" && f.mixer != "attention" && f.mixer != "both")
                throw gflow::bench::usage_error("names_fused: --mixer is grassmann, attention or both");
        } else if (a == "--json") f.json = true;
        else if (a == "--check-only") f.check_only = true;
        else if (a == "--chunks") f.chunks = positive(i);
        else if (a == "--chunk-steps") f.chunk_steps = positive(i);
        else if (a == "--check-steps") f.check_steps = positive(i);
        else if (a == "--seed") f.seed = std::uint64_t(positive(i));
        else if (a == "--help" || a == "-h") {
            fmt::print(
                "names_fused: gflow's training step of the names model (1 layer) against a\n"
                "hand-written fused C++ step of the same model: checks that both compute the same\n"
                "gradients and Adam steps, then times both, interleaved, in f32 and f64.\n"
                "  --data PATH        names.txt (default: the source tree's data/names.txt)\n"
                "  --mixer grassmann|attention|both   (both)\n"
                "  --dtype f32|f64|both   (both)\n"
                "  --chunks N         timed chunks of each (30); the median chunk is reported\n"
                "  --chunk-steps N    training steps per chunk (100)\n"
                "  --check-steps N    Adam steps of the weight check (20)\n"
                "  --seed N           initial weights and document order (42)\n"
                "  --check-only       the correctness check only (the test suite runs this)\n"
                "  --json             one JSON object per line\n");
            std::exit(0);
        } else throw gflow::bench::usage_error(fmt::format("names_fused: unknown flag '{}' (see --help)", a));
    }
    return f;
}

// ---- the check -----------------------------------------------------------------------------------
// Bound. gflow and the fused step compute the same formulas, but sum in different orders (gflow's
// dot products are vector partial sums then a tree; here, broadcast multiply-adds split over
// several accumulators), and use different exp (libm against the polynomial above, both within
// ~1 ulp). So they differ by rounding only: a few ulps per operation, propagated through the ~40
// operations between the loss and a weight. Rounding errors in a sum are bounded by the sizes of
// the terms summed, not by the result: an entry that is small because its terms cancel carries
// the absolute error of its terms. In a backward pass the terms of every entry of one tensor's
// gradient are of the order of that tensor's largest entry (the same activations and upstream
// gradients multiply all of them). Hence, for each entry i of a tensor P:
//     |fused_i - gflow_i| <= tol * (|gflow_i| + max_{j in P} |gflow_j|),   tol = c * eps(S)
// with c = 2^10 for both types (eps = 2^-23 for f32, 2^-52 for f64): a thousand ulps of the
// tensor's scale covers the ~40 operations with sums of up to 64 terms (a worst case of 64 ulps
// each is far above the ~sqrt(n) of rounding that does not conspire), and an error in the
// formulas is of the size of the gradient itself, 10^4 (f32) to 10^13 (f64) times larger.
// The weights after N Adam steps: each step moves a weight by at most ~rate (Adam's m̂/sqrt(v̂) is
// ~ +-1 for a steady gradient), and that move inherits the relative error of the gradient; so
//     |fused_i - gflow_i| <= tol * (|gflow_i| + sum_{s < N} rate_s).
// (An entry whose gradient's sign the rounding can flip, |g| ~ tol * max|g|, would move the other
// way at step 0; at tol = 2^10 eps that takes a gradient 10^-4 of its tensor's scale in f32 and
// does not occur in the checked steps; in f64, 10^-13.)
constexpr int tol_ulps = 1 << 10;

struct check_result {
    bool ok = true;
    double worst = 0;   // the largest |difference| / bound seen
    std::string worst_where;
};

template <class S>
void compare(check_result& r, const std::string& what, std::span<const S> fused, std::span<const S> reference,
             double floor_scale) {
    const double tol = tol_ulps * double(std::numeric_limits<S>::epsilon());
    double scale = 0;
    for (S x : reference) scale = std::max(scale, std::abs(double(x)));
    for (std::size_t i = 0; i < fused.size(); ++i) {
        const double a = double(fused[i]), b = double(reference[i]);
        const double bound = tol * (std::abs(b) + (floor_scale > 0 ? floor_scale : scale));
        const double ratio = std::abs(a - b) / bound;
        if (!(ratio <= 1.0)) {
            if (r.ok || !(ratio <= r.worst))
                fmt::print(stderr, "names_fused: MISMATCH {}[{}]: fused {:.17g}, gflow {:.17g} (bound {:.3g})\n", what, i, a,
                           b, bound);
            r.ok = false;
        }
        if (!(ratio <= r.worst)) {
            r.worst = ratio;
            r.worst_where = fmt::format("{}[{}]", what, i);
        }
    }
}

template <class S, class Net>
std::span<const S> slice(const Net& net, std::span<const S> all, const std::string& name) {
    for (const auto& d : net.parameter_table())
        if (d.name == name) return all.subspan(d.offset, std::size_t(d.rows) * d.cols);
    throw std::logic_error("names_fused: no parameter " + name);
}

// The documents of the gradient check: the first few of the schedule, and the longest one (its
// 16 positions reach every offset of the window but 16).
std::vector<std::size_t> check_documents(std::span<const document> docs) {
    std::vector<std::size_t> picks{0, 1, 2, 3, 4, 5, 6, 7};
    std::size_t longest = 0;
    for (std::size_t i = 0; i < docs.size(); ++i)
        if (docs[i].size() > docs[longest].size()) longest = i;
    picks.push_back(longest);
    return picks;
}

template <class S, template <class> class Mixer>
bool check(std::span<const document> docs, std::uint64_t seed, int adam_steps, bool quiet) {
    using fused_model = fused::model<S, Mixer>;
    const char* dtype = sizeof(S) == 4 ? "f32" : "f64";
    check_result r;
    // gradients at the initial weights, document by document
    {
        net_type<S, Mixer> net(seed);
        fused_model::load_from(net);
        const gflow::adam opt{.decay_steps = adam_steps};
        for (std::size_t d : check_documents(docs)) {
            const S lg = net.loss_and_gradient(docs[d]);
            const S lf = fused_model::template step<false>(docs[d], opt, 0);
            const S loss_ref[1] = {lg}, loss_fused[1] = {lf};
            compare<S>(r, fmt::format("doc {} loss", d), loss_fused, loss_ref, 0);
            fused_model::for_each_tensor([&](const std::string& name, std::size_t size, auto, auto, const S* grad) {
                compare<S>(r, fmt::format("doc {} grad {}", d, name), {grad, size}, slice<S>(net, net.gradients(), name), 0);
            });
        }
    }
    // the weights after adam_steps training steps of each, from the same weights
    double moved = 0;   // sum of the learning rates
    {
        net_type<S, Mixer> net(seed);
        fused_model::load_from(net);
        const gflow::adam opt{.decay_steps = adam_steps};
        for (int s = 0; s < adam_steps; ++s) {
            const auto& doc = docs[std::size_t(s) % docs.size()];
            const S lg = net.train_step(doc, opt, s);
            const S lf = fused_model::template step<true>(doc, opt, s);
            const S loss_ref[1] = {lg}, loss_fused[1] = {lf};
            compare<S>(r, fmt::format("step {} loss", s), loss_fused, loss_ref, 0);
            moved += opt.rate_at(s);
        }
        fused_model::for_each_tensor([&](const std::string& name, std::size_t size, auto get, auto, const S*) {
            std::vector<S> w(size);
            get(w.data());
            // the floor: the largest possible movement; |w| enters through |gflow_i|
            compare<S>(r, fmt::format("weights after {} steps {}", adam_steps, name), std::span<const S>(w),
                       slice<S>(net, net.parameters(), name), moved);
        });
    }
    if (!quiet)
        fmt::print(stderr, "names_fused: check {} {}: {} (largest difference {:.3g} of its bound, at {})\n",
                   fused_model::mixer::name, dtype, r.ok ? "ok" : "FAILED", r.worst, r.worst_where);
    return r.ok;
}

// ---- the timing ------------------------------------------------------------------------------------
struct timing {
    double gflow_us = 0, fused_us = 0;
    double gflow_loss = 0, fused_loss = 0;   // mean loss of the last chunk
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size();
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

// Alternating chunks of `chunk` steps: gflow's train_step, then the fused step on the same
// documents and step numbers (each trains its own copy of the same initial weights along the
// schedule of docs/benchmarks.md#training-schedule, chunks * chunk steps). The median time per
// step of the chunks of each.
template <class S, template <class> class Mixer>
timing measure(std::span<const document> docs, std::uint64_t seed, int chunks, int chunk) {
    using fused_model = fused::model<S, Mixer>;
    const int steps = chunks * chunk;
    const gflow::adam opt{.decay_steps = steps};
    auto run_gflow = [&](net_type<S, Mixer>& net, int first) {
        double loss = 0;
        for (int s = first; s < first + chunk; ++s) loss += double(net.train_step(docs[std::size_t(s) % docs.size()], opt, s));
        return loss / chunk;
    };
    auto run_fused = [&](int first) {
        double loss = 0;
        for (int s = first; s < first + chunk; ++s)
            loss += double(fused_model::template step<true>(docs[std::size_t(s) % docs.size()], opt, s));
        return loss / chunk;
    };
    // The documents of a chunk are read into the cache before each timed chunk: gflow's chunk runs
    // first, and would otherwise fetch from memory the documents that the fused chunk then finds
    // in the cache (measured: up to about 0.1 µs a step, charged to gflow alone).
    auto touch = [&](int first) {
        int sum = 0;
        for (int s = first; s < first + chunk; ++s)
            for (int token : docs[std::size_t(s) % docs.size()]) sum += token;
        volatile int sink = sum;
        (void)sink;
    };
    {   // warm up both (caches, branch predictors, clock), then start again from the initial weights
        net_type<S, Mixer> warm(seed);
        fused_model::load_from(warm);
        run_gflow(warm, 0);
        run_fused(0);
    }
    net_type<S, Mixer> net(seed);
    fused_model::load_from(net);
    std::vector<double> gflow_us, fused_us;
    timing out;
    using clock = std::chrono::steady_clock;
    for (int c = 0; c < chunks; ++c) {
        touch(c * chunk);
        const auto t0 = clock::now();
        out.gflow_loss = run_gflow(net, c * chunk);
        const auto t1 = clock::now();
        touch(c * chunk);
        const auto t2 = clock::now();
        out.fused_loss = run_fused(c * chunk);
        const auto t3 = clock::now();
        gflow_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / chunk);
        fused_us.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count() / chunk);
    }
    out.gflow_us = median(gflow_us);
    out.fused_us = median(fused_us);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const flags f = parse(argc, argv);
        const auto set = gflow::io::read_documents(gflow::bench::default_data_file("names.txt", f.data));
        gflow::bench::options o;
        o.seed = f.seed;
        o.order = "shuffle";
        const auto data = gflow::bench::make_corpus(set, gflow::io::vocabulary::from_documents(set), o);
        if (data.vocab.size() + 1 != fused::V)
            throw gflow::input_error(fmt::format("{}: {} distinct characters; the names model is built for {}", data.source,
                                                 data.vocab.size(), fused::V - 1));
        const std::span<const document> docs(data.docs);
        const bool f32 = f.dtype != "f64", f64 = f.dtype != "f32";
        const bool grassmann = f.mixer != "attention", attention = f.mixer != "grassmann";

        bool ok = true;
        if (grassmann && f32) ok = check<float, fused::grassmann>(docs, f.seed, f.check_steps, false) && ok;
        if (grassmann && f64) ok = check<double, fused::grassmann>(docs, f.seed, f.check_steps, false) && ok;
        if (attention && f32) ok = check<float, fused::attention>(docs, f.seed, f.check_steps, false) && ok;
        if (attention && f64) ok = check<double, fused::attention>(docs, f.seed, f.check_steps, false) && ok;
        if (!ok) {
            fmt::print(stderr, "names_fused: the fused step does not compute what gflow computes\n");
            return 1;
        }
        if (f.check_only) return 0;

        struct row {
            std::string mixer, dtype;
            timing t;
        };
        std::vector<row> rows;
        if (grassmann && f32) rows.push_back({"grassmann", "f32", measure<float, fused::grassmann>(docs, f.seed, f.chunks, f.chunk_steps)});
        if (grassmann && f64) rows.push_back({"grassmann", "f64", measure<double, fused::grassmann>(docs, f.seed, f.chunks, f.chunk_steps)});
        if (attention && f32) rows.push_back({"attention", "f32", measure<float, fused::attention>(docs, f.seed, f.chunks, f.chunk_steps)});
        if (attention && f64) rows.push_back({"attention", "f64", measure<double, fused::attention>(docs, f.seed, f.chunks, f.chunk_steps)});
        if (f.json) {
            for (const auto& [mixer, dtype, t] : rows)
                fmt::print("{{\"benchmark\":\"names_fused\",\"model\":\"names\",\"mixer\":\"{}\",\"layers\":1,\"dtype\":\"{}\","
                           "\"gflow_us_per_step\":{:.4f},\"fused_us_per_step\":{:.4f},\"ratio\":{:.4f},\"chunks\":{},"
                           "\"chunk_steps\":{},\"gflow_loss\":{:.6f},\"fused_loss\":{:.6f}}}\n",
                           mixer, dtype, t.gflow_us, t.fused_us, t.gflow_us / t.fused_us, f.chunks, f.chunk_steps,
                           t.gflow_loss, t.fused_loss);
        } else {
            fmt::print("names, 1 layer, batch 1, one core: median µs per training step (forward, backward, Adam) over {} "
                       "interleaved chunks of {} steps\n\n",
                       f.chunks, f.chunk_steps);
            fmt::print("| mixer | dtype | gflow µs | fused µs | gflow / fused | loss (last chunk) gflow / fused |\n");
            fmt::print("|---|---|---|---|---|---|\n");
            for (const auto& [mixer, dtype, t] : rows)
                fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.2f}x | {:.4f} / {:.4f} |\n", mixer, dtype, t.gflow_us, t.fused_us,
                           t.gflow_us / t.fused_us, t.gflow_loss, t.fused_loss);
        }
        return 0;
    } catch (const gflow::bench::usage_error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    } catch (const gflow::input_error& e) {
        fmt::print(stderr, "names_fused: {}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "names_fused: {}\n", e.what());
        return 1;
    }
}
