// One head of causal attention on gflow's own loops (core/causal_attention.hpp), forward and
// backward, in float and double, for head sizes of one vector or less (4), one (16 in float on
// AVX-512) and several (32), on whatever vector width the build targets, over 1 to T rows (within
// a row tile, across tiles, a tile cut short, the whole buffer).
// Every output is within the rounding bound of its exact value, computed in long double from the
// same inputs (testing/tolerance.hpp): γ_k times the sum of the magnitudes of its terms, with k
// counted below from the formulas. The attention weights above the diagonal of a row's tile must
// be 0 (the backward's sums over t >= s read them).
#define BOOST_TEST_MODULE core_causal_attention
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include <gflow/core/causal_attention.hpp>
#include <gflow/random.hpp>
#include <gflow/testing/tolerance.hpp>

namespace {

using real = long double;

// Two heads side by side in rows of W = 2 D; the one tested is the second (columns D .. 2D - 1),
// so that a kernel reading or writing outside its head's columns is caught.
template <class S, int D, int T>
struct head_case {
    static constexpr int W = 2 * D, c0 = D;
    int n;
    std::vector<S> q, k, v, d_o;                      // [T][W]
    std::vector<S> A, o, dq, dk, dv, dS, scratch;     // A, dS: [T][T]; scratch: [D][T]

    head_case(int rows, unsigned seed) : n(rows) {
        gflow::rng gen(seed);
        auto values = [&](std::vector<S>& x, double scale) {
            x.resize(std::size_t(T) * W);
            for (auto& e : x) e = static_cast<S>(scale * (2 * gen.uniform() - 1));
        };
        // scores of a few units, so that the softmax is neither flat nor one-hot
        values(q, 1.5);
        values(k, 1.5);
        values(v, 1);
        values(d_o, 1);
        const S nan = std::numeric_limits<S>::quiet_NaN();
        A.assign(std::size_t(T) * T, nan);   // what the kernel does not write stays NaN
        dS.assign(std::size_t(T) * T, nan);
        scratch.assign(std::size_t(D) * T, nan);
        o.assign(std::size_t(T) * W, 0);
        dq.assign(std::size_t(T) * W, 0.25);   // the backward accumulates
        dk.assign(std::size_t(T) * W, -0.5);
        dv.assign(std::size_t(T) * W, 0.125);
    }
    S& at(std::vector<S>& x, int row, int i) { return x[std::size_t(row) * W + c0 + i]; }

    void run() {
        gflow::kernels::causal::forward<D, W, T>(n, q.data() + c0, k.data() + c0, v.data() + c0, A.data(),
                                                 o.data() + c0, scratch.data());
        gflow::kernels::causal::backward<D, W, T>(n, q.data() + c0, k.data() + c0, v.data() + c0, A.data(),
                                                  o.data() + c0, d_o.data() + c0, dq.data() + c0, dk.data() + c0,
                                                  dv.data() + c0, dS.data(), scratch.data());
    }
};

template <class S>
double bound(int k, real magnitude) {
    return gflow::testing::rounding_error<S>(k, double(magnitude)) +
           gflow::testing::rounding_error<real>(k, double(magnitude));
}

template <class S, int D, int T>
void check(int n, unsigned seed) {
    head_case<S, D, T> c(n, seed);
    c.run();
    const real scale = 1 / std::sqrt(real(D));
    using M = std::vector<std::vector<real>>;
    M A(n, std::vector<real>(n, 0)), G = A, dS = A, score_size = A;

    // forward, exact
    for (int t = 0; t < n; ++t) {
        real max_score = -INFINITY;
        for (int s = 0; s <= t; ++s) {
            real dot = 0, size = 0;
            for (int i = 0; i < D; ++i) {
                dot += real(c.at(c.q, t, i)) * c.at(c.k, s, i);
                size += std::fabs(real(c.at(c.q, t, i)) * c.at(c.k, s, i));
            }
            A[t][s] = dot * scale;
            score_size[t][s] = size * scale;
            max_score = std::max(max_score, A[t][s]);
        }
        real sum = 0;
        for (int s = 0; s <= t; ++s) sum += A[t][s] = std::exp(A[t][s] - max_score);
        for (int s = 0; s <= t; ++s) A[t][s] /= sum;
    }
    int failures = 0;
    auto expect = [&](const char* what, int row, int i, double got, real exact, double tolerance) {
        if (std::fabs(got - double(exact)) <= tolerance || failures >= 5) return;
        ++failures;
        BOOST_ERROR(fmt::format("{} D {} n {} {}[{}][{}]: {} against exact {}, off by more than {}",
                                sizeof(S) == 4 ? "float" : "double", D, n, what, row, i, got, double(exact), tolerance));
    };
    // A_ts: the score's D products and sum and the scale (D + 1 roundings of terms of size
    // score_size) shift the exponent, twice over (the score and the maximum), and exp's argument's
    // absolute error is its result's relative error; vexp adds 2 ulps (4 roundings); the sum of
    // t + 1 weights and the division t + 2 more.
    std::vector<int> weight_roundings(n);
    for (int t = 0; t < n; ++t) {
        real largest = 0;
        for (int s = 0; s <= t; ++s) largest = std::max(largest, score_size[t][s]);
        weight_roundings[t] = int(std::ceil(2 * (D + 1) * largest)) + 4 + t + 2;
        for (int s = 0; s < std::min(n, (t / 8 + 1) * 8); ++s) {   // the row's tile
            const real exact = s <= t ? A[t][s] : 0;
            expect("A", t, s, double(c.A[std::size_t(t) * T + s]), exact, bound<S>(weight_roundings[t], exact));
        }
    }
    // o_t = Σ_s A_ts v_s: t + 1 products and sums, on weights off by their own roundings
    std::vector<std::vector<real>> o(n, std::vector<real>(D, 0)), o_size = o;
    for (int t = 0; t < n; ++t)
        for (int i = 0; i < D; ++i) {
            for (int s = 0; s <= t; ++s) {
                o[t][i] += A[t][s] * c.at(c.v, s, i);
                o_size[t][i] += A[t][s] * std::fabs(real(c.at(c.v, s, i)));
            }
            expect("o", t, i, c.at(c.o, t, i), o[t][i], bound<S>(weight_roundings[t] + t + 2, o_size[t][i]));
        }

    // backward, exact: G = do vᵀ, dS = A ⊙ (G - rowsum(A ⊙ G)) scale
    // dS_ts's error: G's D roundings, the weighted sum do_t · o_t (D more, and o's own), A's, and
    // the subtraction and two products, relative to A_ts scale Σ_i |do_ti| (|v_si| + |o|_ti).
    M dS_size = A;
    std::vector<int> ds_roundings(n);
    for (int t = 0; t < n; ++t) {
        real weighted = 0;
        for (int s = 0; s <= t; ++s) {
            for (int i = 0; i < D; ++i) G[t][s] += real(c.at(c.d_o, t, i)) * c.at(c.v, s, i);
            weighted += A[t][s] * G[t][s];
        }
        ds_roundings[t] = 2 * D + 2 * (weight_roundings[t] + t + 2) + 4;
        for (int s = 0; s <= t; ++s) {
            dS[t][s] = A[t][s] * (G[t][s] - weighted) * scale;
            real size = 0;
            for (int i = 0; i < D; ++i) size += std::fabs(real(c.at(c.d_o, t, i))) * (std::fabs(real(c.at(c.v, s, i))) + o_size[t][i]);
            dS_size[t][s] = A[t][s] * scale * size;
        }
    }
    for (int t = 0; t < n; ++t)
        for (int i = 0; i < D; ++i) {
            real exact = 0.25, size = 0.25;
            for (int s = 0; s <= t; ++s) {
                exact += dS[t][s] * c.at(c.k, s, i);
                size += dS_size[t][s] * std::fabs(real(c.at(c.k, s, i)));
            }
            expect("dq", t, i, c.at(c.dq, t, i), exact, bound<S>(ds_roundings[t] + t + 2, size));
        }
    for (int s = 0; s < n; ++s)
        for (int i = 0; i < D; ++i) {
            real exact_k = -0.5, size_k = 0.5, exact_v = 0.125, size_v = 0.125;
            int most = 0;
            for (int t = s; t < n; ++t) {
                exact_k += dS[t][s] * c.at(c.q, t, i);
                size_k += dS_size[t][s] * std::fabs(real(c.at(c.q, t, i)));
                exact_v += A[t][s] * c.at(c.d_o, t, i);
                size_v += A[t][s] * std::fabs(real(c.at(c.d_o, t, i)));
                most = std::max(most, ds_roundings[t]);
            }
            expect("dk", s, i, c.at(c.dk, s, i), exact_k, bound<S>(most + n - s + 2, size_k));
            expect("dv", s, i, c.at(c.dv, s, i), exact_v, bound<S>(most + n - s + 2, size_v));
        }
    // the other head's columns are untouched
    for (int t = 0; t < T; ++t)
        for (int i = 0; i < D; ++i) {
            const std::size_t e = std::size_t(t) * c.W + i;
            if (c.o[e] != 0 || c.dq[e] != S(0.25) || c.dk[e] != S(-0.5) || c.dv[e] != S(0.125)) {
                BOOST_ERROR(fmt::format("D {} n {}: row {} column {} of the other head was written", D, n, t, i));
                return;
            }
        }
    // and so are the rows past n
    for (int t = n; t < T; ++t)
        for (int i = 0; i < D; ++i)
            if (c.at(c.o, t, i) != 0 || c.at(c.dk, t, i) != S(-0.5) || c.at(c.dv, t, i) != S(0.125)) {
                BOOST_ERROR(fmt::format("D {} n {}: row {} past the end was written", D, n, t));
                return;
            }
}

// rows: 1, within the first tile, a tile exactly, one more, several with a remainder, all of T
// (and so several of the backward's passes of rows for dv and dk, one cut short)
template <class S, int D, int T>
void check_all() {
    static_assert(gflow::kernels::causal::head_shape<S, D, T>::key_rows < 33, "n = 33 spans two passes");
    static_assert(gflow::kernels::causal::head_shape<S, D, T>::key_pass_rows < 33, "n = 33 spans two passes");
    unsigned seed = 1;
    for (int n : {1, 2, 5, 8, 9, 16, 17, 33, T - 1, T}) check<S, D, T>(n, seed++);
}

}  // namespace

BOOST_AUTO_TEST_CASE(float_heads_within_the_rounding_bound) {
    check_all<float, 4, 64>();
    check_all<float, 16, 64>();
    check_all<float, 32, 64>();
}

BOOST_AUTO_TEST_CASE(double_heads_within_the_rounding_bound) {
    check_all<double, 4, 64>();
    check_all<double, 16, 64>();
    check_all<double, 32, 64>();
}
