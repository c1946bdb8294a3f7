// gflow/expr/plucker.hpp: the Plücker map of the Grassmann mixer, as nodes of an expression.
//
//   plucker(z, u)      p_ij = z_i u_j - z_j u_i, i < j: the C(r,2) coordinates of the plane of z and u
//   unit(p)            p / sqrt(|p|^2 + 1e-8)   (microGrassmann; unit<plucker_norm::max>: p / max(|p|, 1e-8))
//
// Each has its hand-derived backward (forward mode through 2r tangents would be about 30x the
// work at r = 32). The expression the Grassmann mixers write,
//
//   window_mean(unit(plucker(z, shift<δ>(z)))...)       over the window δ_1, ..., δ_K
//
// is recognised where it is written and becomes one node, plucker_window_mean: one loop per
// position computing the coordinates, their normalisation and the mean, keeping 1/N [T][K] (and,
// at r < 8, p̂ [T][K][C(r,2)]) for backward, and, when decoding, a ring of the last max δ vectors z
// instead of K rings. It equals the composition of the separate nodes to rounding (tests/expr/test_plucker.cpp).
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/simd.hpp>
#include <gflow/expr/causal.hpp>
#include <gflow/expr/graph.hpp>

namespace gflow::expr {

// The C(R,2) Plücker coordinates of the plane spanned by z and u, pairs (i, j), i < j, in order
// (0,1), (0,2), ..., (R-2,R-1):  p_ij = z[i] u[j] - z[j] u[i]  (the signed areas of the
// parallelogram of z and u projected on each coordinate plane). Returns sum of p_ij^2.
// From this r on, the pair loops below run row by row: the pairs (i, j > i) of one i are
// contiguous, so each row is one vector loop (r = 32: 31 pairs and fewer). Below it (the names
// and parens models' r = 4: 6 pairs) one loop over the pairs is faster (measured: the names step
// took 15 % longer row by row).
inline constexpr int plucker_rows_from = 8;

template <int R, class S>
inline S plucker_coordinates(const S* __restrict z, const S* __restrict u, S* __restrict p) {
    if constexpr (R < plucker_rows_from) {
        S ss = 0;
        int c = 0;
        for (int i = 0; i < R; ++i)
            for (int j = i + 1; j < R; ++j, ++c) {
                p[c] = z[i] * u[j] - z[j] * u[i];
                ss += p[c] * p[c];
            }
        return ss;
    } else {
        for (int i = 0, c = 0; i < R; c += R - 1 - i, ++i) {
            const S zi = z[i], ui = u[i];
            S* row = p + c;   // row[m] is p_ij with j = i + 1 + m
            GFLOW_SIMD
            for (int m = 0; m < R - 1 - i; ++m) row[m] = zi * u[i + 1 + m] - z[i + 1 + m] * ui;
        }
        S acc = 0;
        GFLOW_SIMD_SUM
        for (int c = 0; c < R * (R - 1) / 2; ++c) acc += p[c] * p[c];
        return acc;
    }
}

// Σ_c a[c] b[c] over the C(r,2) coordinates, in the order that suits r (see plucker_rows_from).
template <int R, class S>
inline S plucker_dot(const S* __restrict a, const S* __restrict b) {
    S acc = 0;
    if constexpr (R < plucker_rows_from) {
        for (int c = 0; c < R * (R - 1) / 2; ++c) acc += a[c] * b[c];
    } else {
        GFLOW_SIMD_SUM
        for (int c = 0; c < R * (R - 1) / 2; ++c) acc += a[c] * b[c];
    }
    return acc;
}

// The backward of plucker_coordinates: given dp, the gradient of each coordinate, accumulates
//   dz_i += Σ_j>i dp_ij u_j - Σ_j<i dp_ji u_j,   du_j += Σ_i<j dp_ij z_i - Σ_i>j dp_ji z_i
// (z, u and their gradients are of two positions: never the same).
template <int R, class S>
inline void plucker_coordinates_backward(const S* __restrict dp, const S* __restrict z, const S* __restrict u,
                                         S* __restrict dz, S* __restrict du) {
    if constexpr (R < plucker_rows_from) {
        int c = 0;
        for (int i = 0; i < R; ++i)
            for (int j = i + 1; j < R; ++j, ++c) {
                dz[i] += dp[c] * u[j];
                dz[j] -= dp[c] * u[i];
                du[j] += dp[c] * z[i];
                du[i] -= dp[c] * z[j];
            }
    } else {
        for (int i = 0, c = 0; i < R; c += R - 1 - i, ++i) {
            const S zi = z[i], ui = u[i];
            const S* row = dp + c;   // row[m] is dp_ij with j = i + 1 + m
            const S *zj = z + i + 1, *uj = u + i + 1;
            S *dzj = dz + i + 1, *duj = du + i + 1;
            S dzi = 0, dui = 0;
            GFLOW_PRAGMA(omp simd reduction(+ : dzi, dui))
            for (int m = 0; m < R - 1 - i; ++m) {
                dzi += row[m] * uj[m];
                dui += row[m] * zj[m];
                dzj[m] -= row[m] * ui;
                duj[m] += row[m] * zi;
            }
            dz[i] += dzi;
            du[i] -= dui;
        }
    }
}

// Operations of the Plücker coordinates of a sequence of `length` positions (term.hpp's
// flop_count): 3 a coordinate (two products and a difference) for each pair (t, t-δ) that
// exists, t - δ >= 0; backward twice that.
template <int R, std::size_t K>
constexpr flop_count plucker_flops(long length, const std::array<int, K>& window) {
    double pairs = 0;
    for (int delta : window) pairs += double(std::max(0L, length - delta));
    const double forward = 3.0 * pairs * (R * (R - 1) / 2);
    return {forward, 2 * forward};
}


// How the Plücker vector p is brought to unit length. Both have the derivative
//   dp = (dp̂ - p̂ (p̂ · dp̂)) / N(p)      (N the denominator),
// except where the max form is clamped (|p| <= ε), where p̂ = p / ε and dp = dp̂ / ε.
enum class plucker_norm {
    max,      // p / max(|p|, ε), ε = 1e-8: the paper (and torch.nn.functional.normalize)
    smooth,   // p / sqrt(|p|² + 1e-8): the microGrassmann reference implementation; no kink
};
inline constexpr double plucker_norm_epsilon = 1e-8;   // ε of the max form; added to |p|² in smooth

// 1 / N(p) from ss = |p|².
template <plucker_norm Norm, class S>
inline S inverse_norm(S ss) {
    if constexpr (Norm == plucker_norm::smooth)
        return S(1) / std::sqrt(ss + S(plucker_norm_epsilon));
    else
        return S(1) / std::max(std::sqrt(ss), S(plucker_norm_epsilon));
}
// Whether the max form was clamped for this p: then N = ε exactly, so 1/N = 1/ε (an unclamped
// |p| > ε gives 1/|p| < 1/ε, equal only by rounding at the kink itself).
template <plucker_norm Norm, class S>
inline bool clamped(S inv) {
    if constexpr (Norm == plucker_norm::smooth) return false;
    else return inv >= S(1) / S(plucker_norm_epsilon);
}
constexpr const char* norm_formula(plucker_norm norm) {
    return norm == plucker_norm::max ? "p / max(|p|, eps)" : "p / sqrt(|p|^2 + eps)";
}

template <node A, node B>
struct plucker_node : node_base, no_params_node, stateless_node {
    static_assert(A::width == B::width, "gflow::expr::plucker(z, u): z and u have the same width r");
    static_assert(A::width >= 2, "gflow::expr::plucker(z, u): r must be at least 2 (a Plücker coordinate "
                                 "needs two dimensions)");
    static_assert(!std::is_same_v<A, B>, "gflow::expr::plucker(z, z) is 0: pair z with another value, "
                                         "e.g. shift<1>(z)");
    static constexpr int R = A::width, P = R * (R - 1) / 2;
    using inputs = type_list<A, B>;
    static constexpr int width = P, first_valid = std::max(A::first_valid, B::first_valid);
    static std::string label() { return fmt::format("plucker [r={}: C(r,2) = {}]", R, P); }
    static constexpr flop_count flops(long length) {
        const double forward = 3.0 * double(length) * P;
        return {forward, 2 * forward};
    }

    template <int T, class S>
    static void forward(const pass& p, const S*, S*, S*, S* y, std::array<const S*, 2> x) {
        for (int t = 0; t < p.n; ++t) plucker_coordinates<R>(x[0] + t * R, x[1] + t * R, y + t * P);
    }
    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S*, S*, const S*, const S* dy, std::array<const S*, 2> x,
                         std::array<S*, 2> dx) {
        for (int t = 0; t < p.n; ++t)
            plucker_coordinates_backward<R>(dy + t * P, x[0] + t * R, x[1] + t * R, dx[0] + t * R, dx[1] + t * R);
    }
};

template <plucker_norm Norm, node X>
struct unit_node : node_base, no_params_node {
    using inputs = type_list<X>;
    static constexpr int width = X::width, first_valid = X::first_valid;
    template <int T> static constexpr memory_plan memory{kept_buffer("1/N(x)", "[T]", std::size_t(T))};
    template <int T> static constexpr std::size_t keep = memory<T>.kept_size();
    template <int T> static constexpr std::size_t scratch = 0;
    template <int T> static constexpr std::size_t state = 0;
    static std::string label() { return fmt::format("unit [{}]", norm_formula(Norm)); }

    template <int T, class S>
    static void forward(const pass& p, const S*, S* inv, S*, S* y, std::array<const S*, 1> x) {
        for (int t = 0; t < p.n; ++t) {
            const S* xt = x[0] + t * width;
            S ss = 0;
            for (int c = 0; c < width; ++c) ss += xt[c] * xt[c];
            inv[t] = inverse_norm<Norm>(ss);
            for (int c = 0; c < width; ++c) y[t * width + c] = xt[c] * inv[t];
        }
    }
    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S* inv, S*, const S* y, const S* dy, std::array<const S*, 1>,
                         std::array<S*, 1> dx) {
        for (int t = 0; t < p.n; ++t) {
            const S *yt = y + t * width, *dyt = dy + t * width;
            S dot = 0;
            if (!clamped<Norm>(inv[t]))
                for (int c = 0; c < width; ++c) dot += yt[c] * dyt[c];
            for (int c = 0; c < width; ++c) dx[0][t * width + c] += (dyt[c] - yt[c] * dot) * inv[t];
        }
    }
};

// ---- the fused node's loops on whole rows (r = 8, 16, 32 in float and double) ---------------------
// The coordinates of one pair are the upper triangle of the antisymmetric r x r matrix
//   z ∧ u = z uᵀ - u zᵀ,   row i: z_i u - u_i z   (lane j: p_ij above the diagonal, -p_ji below, 0 on it).
// A row is two vector multiplies and a difference, with no triangular loop of r-1-i lanes. The map
// is bilinear, and the K pairs of a position share z, so no pair's matrix is kept or summed:
//   forward   mean = Σ_k w_k (z ∧ u_k) = z ∧ ū,   ū = Σ_k w_k u_k,   w_k = 1/(N_k count):
//             one matrix a position, not K. N_k from |z ∧ u_k|², summed from the coordinates
//             themselves over three quarters of the matrix (never |z|²|u|² - (z·u)², which cancels).
//   backward  G the antisymmetric form of ∂mean, Gᵀv = Σ_i v_i G_i. Pair k's gradient is
//             F_k = a_k G - b_k (z ∧ u_k), a_k = w_k, b_k = w_k (p̂_k · ∂p̂_k) / N_k, and with
//             x = Gᵀz (so ½ Σ_ij (z ∧ u_k)_ij G_ij = u_k · x):
//               du_k =  Σ_i z_i F_k,i   =  a_k x - b_k (|z|² u_k - (z·u_k) z)
//               dz   = -Σ_k Σ_i u_k,i F_k,i = -Gᵀ(Σ_k a_k u_k) + Σ_k b_k ((u_k·z) u_k - |u_k|² z)
//             two products with G a position, read from its packed coordinates in place
//             (antisymmetric_product), then work on vectors of r.
// At r = 32 in float (the width-128 and width-256 Grassmann models), a position took 1.32 µs
// forward and 3.4 µs backward when each pair's matrix was formed and G expanded (64 registers a
// matrix: they spilled), and takes 0.33 µs and 0.21 µs now (bench/mixer_kernels, docs/design.md).
namespace detail {

// Where a row is at most four vector registers of the target (AVX-512: r = 8 to 32 in float and
// double; AVX2: r = 8 to 32 in float, 8 and 16 in double; SSE2: r = 8 and 16 in float, 8 in double).
// Wider rows keep the triangular loops: the loops over rows are unrolled, and with r rows of more
// registers the code grows (when each pair's matrix was kept, such loops took minutes to compile
// under the sanitizers).
template <class S, int R>
inline constexpr bool plucker_whole_rows = (std::is_same_v<S, float> || std::is_same_v<S, double>) &&
                                           GFLOW_HAS_SHUFFLEVECTOR && simd::register_lanes<S> > 1 &&
                                           (R == 8 || R == 16 || R == 32) &&
                                           R * int(sizeof(S)) <= 4 * simd::register_bytes;

#if GFLOW_HAS_SHUFFLEVECTOR
// A row of r lanes. Rows cross function boundaries by reference only: a row of 16 floats is wider
// than an SSE register, and GCC passes and returns such a vector by value differently with and
// without AVX-512 (-Wpsabi), which two translation units built for different targets would not
// agree on.
template <class S, int R>
using plucker_row = kernels::lanes<S, R>;
template <class S>
using plucker_bits = std::conditional_t<sizeof(S) == 4, std::int32_t, std::int64_t>;
template <class S, int R>
using plucker_mask = kernels::lanes<plucker_bits<S>, R>;

template <int R, class S>
inline void load_row(const S* p, plucker_row<S, R>& v) { std::memcpy(&v, p, sizeof v); }

// The loops below hold a row as the registers it spans, N pieces of L lanes: on vectors of r lanes
// wider than a register, GCC 12 built a number's broadcast on the stack, lane by lane, wherever
// the broadcast served twice (the backward at r = 32 in f32, AVX-512: 96 such stores).
template <class S, int R>
struct row_pieces {
    static constexpr int L = std::min(R, simd::register_lanes<S>), N = R / L;
    using P = kernels::lanes<S, L>;
    static void load(const S* p, P (&v)[N]) {
        GFLOW_UNROLL
        for (int k = 0; k < N; ++k) v[k] = kernels::detail::load<P>(p + k * L);
    }
    static void store(S* p, const P (&v)[N]) {
        GFLOW_UNROLL
        for (int k = 0; k < N; ++k) kernels::detail::store(p + k * L, v[k]);
    }
    static void add(S* p, const P (&v)[N]) {   // p[0 .. r) += v
        GFLOW_UNROLL
        for (int k = 0; k < N; ++k) kernels::detail::store(p + k * L, kernels::detail::load<P>(p + k * L) + v[k]);
    }
    static S dot(const P (&a)[N], const P (&b)[N]) {
        P products[N];
        GFLOW_UNROLL
        for (int k = 0; k < N; ++k) products[k] = a[k] * b[k];
        const P sum = kernels::detail::tree_sum<N>(products);
        return kernels::horizontal_sum<S, L>(sum);
    }
};

// Row I of the upper triangle of packed coordinates q (lanes j > I: q_Ij, the others 0), read in
// place: row I starts at c_I = I r - I(I+1)/2, so lane j is q[c_I - I - 1 + j] (the lanes j <= I,
// of the row before, are cleared by a bitwise mask, whatever they hold); row 0 (which would read
// q[-1]) is its first r-1 values moved up one lane.
template <int I, int R, class S, std::size_t... J>
inline void packed_row(const S* q, plucker_row<S, R>& row, std::index_sequence<J...>) {
    using V = plucker_row<S, R>;
    using M = plucker_mask<S, R>;
    if constexpr (I == 0) {
        V v;
        load_row<R, S>(q, v);
        row = __builtin_shufflevector(v, V{}, (J == 0 ? R : int(J) - 1)...);
    } else if constexpr (I == R - 1) {
        row = V{};
    } else {
        V v;
        load_row<R, S>(q + (I * R - I * (I + 1) / 2 - I - 1), v);
        constexpr M above{plucker_bits<S>(int(J) > I ? -1 : 0)...};
        row = (V)((M)v & above);
    }
}

// Σ_i v_i G_i = Gᵀv for G the antisymmetric matrix of the packed coordinates g: with U its strict
// upper triangle (G = U - Uᵀ, U's rows read in place by packed_row), Uᵀv - U v, U v by sums of rows
// folded to a register's lanes (kernels::detail::row_sums). No r x r transpose: at r = 32 in float,
// expanding G by one (64 registers, spilled) took 2.2 µs a position, more than the rest of the pass.
template <int R, class S>
[[gnu::flatten]] inline void antisymmetric_product(const S* g, const S* v, S* __restrict out) {
    // (flatten: GCC left the loop over rows, a lambda, out of line at r = 16, its arrays in memory:
    // the backward took 2.4x as long)
    using pieces = row_pieces<S, R>;
    using P = typename pieces::P;
    constexpr int H = pieces::L, N = pieces::N;   // a folded row's lanes; registers a row
    static_assert(N <= 4, "a whole row is one to four registers");
    P vv[N], upper_t[N] = {};   // upper_t = Uᵀv
    pieces::load(v, vv);
    P folded[N][H];   // folded[b][m]: row b H + m of U ⊙ v, its registers summed lane by lane
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        const auto one_row = [&]<int Row>() {
            plucker_row<S, R> row;
            packed_row<Row, R, S>(g, row, std::make_index_sequence<R>{});
            P row_k[N], product[N];
            std::memcpy(row_k, &row, sizeof row_k);
            const S v_row = v[Row];
            GFLOW_UNROLL
            for (int k = 0; k < N; ++k) {
                upper_t[k] += v_row * row_k[k];
                product[k] = row_k[k] * vv[k];
            }
            folded[Row / H][Row % H] = kernels::detail::tree_sum<N>(product);
        };
        (one_row.template operator()<int(I)>(), ...);
    }(std::make_index_sequence<R>{});
    P result[N];   // Uᵀv - U v, U v by row sums
    for (int k = 0; k < N; ++k) {
        P upper;
        kernels::detail::row_sums(folded[k], upper);
        result[k] = upper_t[k] - upper;
    }
    pieces::store(out, result);
}

// |z ∧ u|² = Σ_{i<j} p_ij², from the coordinates by halves of rows: the two diagonal blocks (each
// pair twice, so ½) and the block above them, never the one below (a quarter of the matrix). In
// vectors of at most a register: written on vectors of half a row, GCC built the broadcasts of z_i
// and u_i on the stack where a half is two registers (r = 32 on AVX2: 5x slower).
template <int R, class S>
inline S square_norm(const S* __restrict z, const S* __restrict u) {
    constexpr int H = R / 2;
    using half = row_pieces<S, H>;   // N registers of L lanes a half-row
    using V = typename half::P;
    constexpr int L = half::L, N = half::N;
    V z_low[N], z_high[N], u_low[N], u_high[N], diagonal[N] = {}, above[N] = {};
    half::load(z, z_low);
    half::load(z + H, z_high);
    half::load(u, u_low);
    half::load(u + H, u_high);
    GFLOW_UNROLL
    for (int i = 0; i < H; ++i) {
        const S zi = z[i], ui = u[i];
        GFLOW_UNROLL
        for (int k = 0; k < N; ++k) {
            const V low = zi * u_low[k] - ui * z_low[k], high = zi * u_high[k] - ui * z_high[k];
            diagonal[k] += low * low;
            above[k] += high * high;
        }
    }
    GFLOW_UNROLL
    for (int i = H; i < R; ++i) {
        const S zi = z[i], ui = u[i];
        GFLOW_UNROLL
        for (int k = 0; k < N; ++k) {
            const V high = zi * u_high[k] - ui * z_high[k];
            diagonal[k] += high * high;
        }
    }
    const V d = kernels::detail::tree_sum<N>(diagonal), a = kernels::detail::tree_sum<N>(above);
    return kernels::horizontal_sum<S, L>(a) + S(0.5) * kernels::horizontal_sum<S, L>(d);
}

// The packed coordinates of z ∧ u into q (C(r,2) values), row by row from the last: row i, A_i =
// z_i u - u_i z, is stored whole where its lanes j > i belong (the window packed_row reads), and
// its lanes j <= i fall on rows before it, which are stored after it; row 0 (whose window would
// start at q[-1]) stores its r-1 coordinates alone.
template <int R, class S>
[[gnu::flatten]] inline void store_plucker(const S* z, const S* u, S* __restrict q) {   // (flatten: as below)
    using pieces = row_pieces<S, R>;
    using P = typename pieces::P;
    constexpr int N = pieces::N;
    P zv[N], uv[N];
    pieces::load(z, zv);
    pieces::load(u, uv);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        const auto one_row = [&]<int Row>() {
            const S z_row = z[Row], u_row = u[Row];
            P row[N];
            GFLOW_UNROLL
            for (int k = 0; k < N; ++k) row[k] = z_row * uv[k] - u_row * zv[k];
            if constexpr (Row == 0) {
                S lanes[R];
                std::memcpy(lanes, row, sizeof lanes);
                std::memcpy(q, lanes + 1, sizeof(S) * (R - 1));
            } else {
                std::memcpy(q + (Row * R - Row * (Row + 1) / 2 - Row - 1), row, sizeof row);
            }
        };
        (one_row.template operator()<R - 2 - int(I)>(), ...);   // rows r-2, ..., 0 (row r-1 is empty)
    }(std::make_index_sequence<R - 1>{});
}
#endif

}  // namespace detail

// window_mean(unit<Norm>(plucker(z, shift<δ_k>(z)))...) in one node (see the top of this file).
template <plucker_norm Norm, node Z, int... Offsets>
struct plucker_window_mean_node : node_base, no_params_node {
    static constexpr int R = Z::width, P = R * (R - 1) / 2, K = sizeof...(Offsets);
    static constexpr std::array<int, K> window{Offsets...};
    static constexpr int max_offset = std::max({Offsets...});
    using inputs = type_list<Z>;
    static constexpr int width = P, first_valid = Z::first_valid + std::min({Offsets...});
    // Whole rows (above, plucker_whole_rows): p is recomputed from z, which backward reads anyway,
    // and only 1/N is kept. Triangular loops: r < plucker_rows_from (the names model's r = 4, six
    // values) keeps p̂; otherwise (long double, rows wider than two registers) p is recomputed there
    // too, into the scratch "p", by the forward's own function, so it is the same p.
    static constexpr bool keeps_p = R < plucker_rows_from;
    template <class S>
    static constexpr bool whole_rows = !keeps_p && detail::plucker_whole_rows<S, R>;
    template <int T>
    static constexpr memory_plan memory{kept_buffer("p̂", "[T][K][C(r,2)]", keeps_p ? std::size_t(T) * K * P : 0),
                                        kept_buffer("1/N(p)", "[T][K]", std::size_t(T) * K),
                                        scratch_buffer("∂p", "[C(r,2)]", std::size_t(P)),   // one pair's
                                        scratch_buffer("p", "[C(r,2)]", keeps_p ? 0 : std::size_t(P))};
    template <int T> static constexpr std::size_t keep = memory<T>.kept_size();
    template <int T> static constexpr std::size_t scratch = memory<T>.scratch_size();
    template <int T> static constexpr std::size_t state = std::size_t(max_offset) * R;   // ring of z [max δ][r]
    static std::string label() {
        return fmt::format("window_mean of unit plucker(z, shift<δ>(z)), δ in {} [one fused loop, {}]", window,
                           norm_formula(Norm));
    }
    static constexpr flop_count flops(long length) { return plucker_flops<R>(length, window); }

    template <int T, class S>
    static void forward(const pass& p, const S*, S* keep_, S* scratch_, S* y, std::array<const S*, 1> z) {
        for (int t = 0; t < p.n; ++t)
            mean_at<T>(t, z[0] + t * R, [&](int s) { return z[0] + s * R; }, keep_, scratch_, y, 0);
    }
    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S* keep_, S* scratch_, const S*, const S* dmean_rows,
                         std::array<const S*, 1> z_rows, std::array<S*, 1> dz_rows) {
        const S* z = z_rows[0];
        S* dz = dz_rows[0];
        const S* inv_norms = keep_ + memory<T>.offset("1/N(p)");   // [T][K]
        for (int t = 0; t < p.n; ++t) {
            int count = 0;
            for (int k = 0; k < K; ++k) count += (t - window[k] >= 0);
            if (count == 0) continue;
            const S* dmean = dmean_rows + t * P;   // [C(r,2)]
            const S* zt = z + t * R;               // [r]
            S* dzt = dz + t * R;                   // [r]
#if GFLOW_HAS_SHUFFLEVECTOR
            if constexpr (whole_rows<S>) {
                using pieces = detail::row_pieces<S, R>;
                using P = typename pieces::P;
                constexpr int N = pieces::N;
                alignas(64) S x_row[R], w_row[R];   // x = Σ_i z_i G_i, G the antisymmetric matrix of ∂mean
                detail::antisymmetric_product<R, S>(dmean, zt, x_row);
                P zv[N], x[N], w[N] = {}, dzv[N] = {};   // w = Σ_k a_k u_k: Σ_k a_k y_k = Σ_i w_i G_i
                pieces::load(zt, zv);
                pieces::load(x_row, x);
                const S zz = pieces::dot(zv, zv);
                for (int k = 0; k < K; ++k) {
                    const int s = t - window[k];
                    if (s < 0) continue;
                    P u[N], du[N];
                    pieces::load(z + s * R, u);
                    const S inv = inv_norms[t * K + k];
                    const S a = inv / S(count);
                    // b = a (p̂ · ∂p̂) / N, p̂ · ∂p̂ = inv ½ Σ (z ∧ u)⊙G = inv (u · x); 0 where clamped
                    const S b = clamped<Norm>(inv) ? S(0) : a * inv * inv * pieces::dot(u, x);
                    const S b_uz = b * pieces::dot(u, zv), b_uu = b * pieces::dot(u, u), b_zz = b * zz;
                    GFLOW_UNROLL
                    for (int j = 0; j < N; ++j) {
                        dzv[j] += b_uz * u[j] - b_uu * zv[j];
                        du[j] = a * x[j] - b_zz * u[j] + b_uz * zv[j];
                        w[j] += a * u[j];
                    }
                    pieces::add(dz + s * R, du);
                }
                pieces::store(w_row, w);
                detail::antisymmetric_product<R, S>(dmean, w_row, x_row);   // Gᵀw, into x_row
                P w_product[N];
                pieces::load(x_row, w_product);
                GFLOW_UNROLL
                for (int j = 0; j < N; ++j) dzv[j] -= w_product[j];
                pieces::add(dzt, dzv);
                continue;
            }
#endif
            S* dp = scratch_ + memory<T>.offset("∂p");   // [C(r,2)]
            for (int k = 0; k < K; ++k) {
                const int s = t - window[k];
                if (s < 0) continue;
                const S inv = inv_norms[t * K + k];
                const S* ph;   // p̂ [C(r,2)]: kept, or recomputed as the forward computed it
                if constexpr (keeps_p) {
                    ph = keep_ + (t * K + k) * P;
                } else {
                    S* q = scratch_ + memory<T>.offset("p");
                    plucker_coordinates<R>(zt, z + s * R, q);
                    for (int c = 0; c < P; ++c) q[c] *= inv;
                    ph = q;
                }
                // d p̂ = dmean / count;  dp = (dp̂ - p̂ (p̂ . dp̂)) / N, or dp̂ / ε where clamped
                const S dot = clamped<Norm>(inv) ? S(0) : plucker_dot<R>(ph, dmean), scale = inv / S(count);
                GFLOW_SIMD
                for (int c = 0; c < P; ++c) dp[c] = (dmean[c] - ph[c] * dot) * scale;
                plucker_coordinates_backward<R>(dp, zt, z + s * R, dzt, dz + s * R);
            }
        }
    }
    // One token at position t: pairs with the ring of the last max δ vectors z.
    template <int T, class S>
    static void decode(const pass& p, const S*, S* keep_, S* scratch_, S* ring, S* y, std::array<const S*, 1> z) {
        const int t = p.first_position;
        mean_at<T>(0, z[0], [&](int s) { return ring + ((s + t) % max_offset) * R; }, keep_, scratch_, y, t);
        for (int i = 0; i < R; ++i) ring[(t % max_offset) * R + i] = z[0][i];
    }

private:
    // p̂ for each offset that exists at position t (= row + position_shift), and their mean into y's
    // row. earlier(s) gives z at row s (s may be negative in decode, where rows are relative).
    template <int T, class S, class Earlier>
    static void mean_at(int row, const S* zt, Earlier earlier, S* keep_, S* scratch_, S* y, int position_shift) {
        S* mean = y + row * P;                                        // [C(r,2)]
        S* inv_norms = keep_ + memory<T>.offset("1/N(p)") + row * K;   // [K]
#if GFLOW_HAS_SHUFFLEVECTOR
        if constexpr (whole_rows<S>) {
            using pieces = detail::row_pieces<S, R>;
            using P = typename pieces::P;
            constexpr int N = pieces::N;
            P mean_u[N] = {};   // mean = z ∧ mean_u, mean_u = Σ_k u_k / N_k / count
            int count = 0;
            for (int k = 0; k < K; ++k) {
                const int delta = window[k];
                if (row + position_shift - delta < 0) continue;
                const S* u_row = earlier(row - delta);
                const S inv = inverse_norm<Norm>(detail::square_norm<R, S>(zt, u_row));
                inv_norms[k] = inv;
                P u[N];
                pieces::load(u_row, u);
                GFLOW_UNROLL
                for (int j = 0; j < N; ++j) mean_u[j] += inv * u[j];
                ++count;
            }
            if (count > 1)
                for (int j = 0; j < N; ++j) mean_u[j] /= S(count);
            alignas(64) S mean_u_row[R];
            pieces::store(mean_u_row, mean_u);
            detail::store_plucker<R, S>(zt, mean_u_row, mean);
            return;
        }
#endif
        for (int c = 0; c < P; ++c) mean[c] = 0;
        int count = 0;
        for (int k = 0; k < K; ++k) {
            const int delta = window[k];
            if (row + position_shift - delta < 0) continue;
            S* ph = keeps_p ? keep_ + (row * K + k) * P : scratch_ + memory<T>.offset("p");   // [C(r,2)]
            const S inv = inverse_norm<Norm>(plucker_coordinates<R>(zt, earlier(row - delta), ph));
            inv_norms[k] = inv;
            for (int c = 0; c < P; ++c) {
                ph[c] *= inv;
                mean[c] += ph[c];
            }
            ++count;
        }
        if (count > 1)
            for (int c = 0; c < P; ++c) mean[c] /= S(count);
    }
};

template <node A, node B>
constexpr plucker_node<A, B> plucker(A, B) { return {}; }
template <plucker_norm Norm = plucker_norm::smooth, node X>
constexpr unit_node<Norm, X> unit(X) { return {}; }

// The pattern: every value of the window a unit Plücker vector of one z and a shift of it, by
// distinct offsets, with one normalisation.
template <plucker_norm Norm, node Z, int... Offsets>
    requires(sizeof...(Offsets) >= 1 && Z::first_valid == 0)
struct window_mean_of<unit_node<Norm, plucker_node<Z, shift_node<Offsets, Z>>>...> {
    using type = plucker_window_mean_node<Norm, Z, Offsets...>;
};

}  // namespace gflow::expr
