// Every node of an expression (include/gflow/expr/): its gradient against finite differences,
// through a small expression that uses it; decoding position by position equal to the forward
// pass; the fused Plücker window mean equal to the composition of its separate nodes.
#define BOOST_TEST_MODULE expr_nodes
#include "../terms/term_check.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gflow/random.hpp>
#include <gflow/terms/expression.hpp>
#include <gflow/testing/tolerance.hpp>

using namespace gflow::terms;
using gflow::expr::plucker_norm;
namespace expr = gflow::expr;

namespace {
// shift and window_mean of h itself: the mean of h_t, h_{t-1}, h_{t-3} over those that exist
constexpr auto causal_mean = expression<"causal mean">([](auto h, auto) {
    using namespace gflow::expr;
    return window_mean(h, shift<1>(h), shift<3>(h));
});
// products, concatenation, a map of four values (one of them twice) and valid_only
constexpr auto products = expression<"products">([](auto h, auto d) {
    using namespace gflow::expr;
    auto a = expr::affine<"A", "a", 3>(h);
    auto b = valid_only(expr::linear<"B", 3>(shift<2>(h)));
    auto c = map([](auto x, auto y, auto z) { return x * gflow::math::tanh(y) + z * z; }, a, b, a);
    return expr::linear<"C", d>(concat(c, b));
});
// the Plücker nodes, separately: unit(plucker(z, shift<δ>(z))) with each normalisation
// (r = 4: the triangular loops; r = 8, 16, 32: whole rows of the antisymmetric matrix where a row
// fits two vector registers, expr/plucker.hpp: r = 8 in float on every vector target)
template <plucker_norm Norm, int R = 4>
constexpr auto plucker_parts = expression<"plucker parts">([](auto h, auto d) {
    using namespace gflow::expr;
    auto z = expr::linear<"W_red", R>(h);
    using one = decltype(unit<Norm>(plucker(z, shift<1>(z))));
    using two = decltype(unit<Norm>(plucker(z, shift<2>(z))));
    using five = decltype(unit<Norm>(plucker(z, shift<5>(z))));
    return expr::linear<"W_plu", d>(window_mean_node<one, two, five>{});   // not the fused node
});
template <plucker_norm Norm, int R = 4>
constexpr auto plucker_fused = expression<"plucker fused">([](auto h, auto d) {
    using namespace gflow::expr;
    auto z = expr::linear<"W_red", R>(h);
    return expr::linear<"W_plu", d>(window_mean(unit<Norm>(plucker(z, shift<1>(z))), unit<Norm>(plucker(z, shift<2>(z))),
                                                unit<Norm>(plucker(z, shift<5>(z)))));
});
constexpr auto attention_of = expression<"attend">([](auto h, auto d) {
    using namespace gflow::expr;
    return expr::linear<"O", d>(attend<2>(expr::linear<"Q", d>(h), expr::linear<"K", d>(h), h));
});

// the same with the heads in vector lanes (expr/attend.hpp's heads_in_lanes: width 8 in float and
// double on every vector target; heads of 2 lanes, and of 4 where a vector holds 4 lanes or more)
template <int Heads>
constexpr auto attention_in_lanes = expression<"attend in lanes">([](auto h, auto d) {
    using namespace gflow::expr;
    return expr::linear<"O", d>(attend<Heads>(expr::linear<"Q", d>(h), expr::linear<"K", d>(h), h));
});

constexpr gflow::dims sizes{5, 9, 6}, sizes_8{5, 9, 8};

using gflow::testing::decode_difference;   // forward, then decoding position by position: the same outputs
}  // namespace

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(decltype(causal_mean), sizes, 6, 1);
    GFLOW_CHECK_TERM_GRADIENT(decltype(products), sizes, 6, 2);
    GFLOW_CHECK_TERM_GRADIENT(decltype(plucker_parts<plucker_norm::smooth>), sizes, 6, 3);
    GFLOW_CHECK_TERM_GRADIENT(decltype(plucker_parts<plucker_norm::max>), sizes, 6, 4);
    GFLOW_CHECK_TERM_GRADIENT(decltype(plucker_fused<plucker_norm::smooth>), sizes, 6, 5);
    GFLOW_CHECK_TERM_GRADIENT(decltype(plucker_fused<plucker_norm::max>), sizes, 6, 6);
    GFLOW_CHECK_TERM_GRADIENT(decltype(plucker_fused<plucker_norm::smooth, 8>), sizes, 6, 8);
    GFLOW_CHECK_TERM_GRADIENT(decltype(plucker_fused<plucker_norm::max, 16>), sizes, 6, 9);
    GFLOW_CHECK_TERM_GRADIENT(decltype(attention_of), sizes, 6, 7);
    GFLOW_CHECK_TERM_GRADIENT(decltype(attention_in_lanes<4>), sizes_8, 8, 10);
    GFLOW_CHECK_TERM_GRADIENT(decltype(attention_in_lanes<2>), sizes_8, 8, 11);
}

BOOST_AUTO_TEST_CASE(decoding_equals_the_forward_pass) {
    // each decoded output is the forward's computation on one row, plus the state's rows: equal
    // up to the roundings of sums taken in another grouping (a few units of precision)
    const double bound = gflow::testing::rounding_error(64, 1.0);
    BOOST_TEST((decode_difference<decltype(causal_mean), sizes, 6>(9, 11) <= bound));
    BOOST_TEST((decode_difference<decltype(products), sizes, 6>(9, 12) <= bound));
    BOOST_TEST((decode_difference<decltype(plucker_parts<plucker_norm::smooth>), sizes, 6>(9, 13) <= bound));
    BOOST_TEST((decode_difference<decltype(plucker_fused<plucker_norm::max>), sizes, 6>(9, 14) <= bound));
    BOOST_TEST((decode_difference<decltype(plucker_fused<plucker_norm::smooth, 16>), sizes, 6>(9, 17) <= bound));
    BOOST_TEST((decode_difference<decltype(attention_of), sizes, 6>(9, 15) <= bound));
    BOOST_TEST((decode_difference<decltype(attention_in_lanes<4>), sizes_8, 8>(9, 18) <= bound));
    BOOST_TEST((decode_difference<decltype(attention_in_lanes<2>), sizes_8, 8>(9, 19) <= bound));
}

BOOST_AUTO_TEST_CASE(shift_and_window_mean_by_hand) {
    using I = gflow::bind<decltype(causal_mean), sizes, 1>;
    const std::vector<double> x{1, 2, 4, 8, 16};
    std::vector<double> y(5), a(I::act_size + 1);
    I::forward(gflow::pass{5, nullptr, 0}, static_cast<const double*>(nullptr), a.data(), x.data(), y.data());
    // t = 0: h_0 alone; t = 1, 2: h_t and h_{t-1}; t >= 3: all three
    const std::vector<double> expected{1, 1.5, 3, (8 + 4 + 1) / 3.0, (16 + 8 + 2) / 3.0};
    for (int t = 0; t < 5; ++t) BOOST_TEST(y[t] == expected[t], boost::test_tools::tolerance(1e-15));
    static_assert(I::state_size == 1 + 3, "rings of 1 and 3 rows of width 1");
}

// A window of two values, by hand (the form GCC 12 once miscompiled at -O3: expr/causal.hpp), for
// several widths, in one program with the other windows.
constexpr auto pair_mean = expression<"pair mean">([](auto h, auto) {
    using namespace gflow::expr;
    return window_mean(h, shift<2>(h));
});
template <int W>
void check_pair_mean() {
    constexpr int n = 9;
    using I = gflow::bind<decltype(pair_mean), gflow::dims{5, n, W}, W>;
    std::vector<double> x(n * W), y(n * W), a(I::act_size + 1);
    for (int i = 0; i < n * W; ++i) x[i] = double(i / W) * 10 + double(i % W);
    I::forward(gflow::pass{n, nullptr, 0}, static_cast<const double*>(nullptr), a.data(), x.data(), y.data());
    for (int t = 0; t < n; ++t)
        for (int c = 0; c < W; ++c) {
            const double expected = t < 2 ? x[t * W + c] : (x[t * W + c] + x[(t - 2) * W + c]) / 2;
            BOOST_TEST(y[t * W + c] == expected);   // sums of two integers, halved: exact
        }
}
BOOST_AUTO_TEST_CASE(window_of_two_values_by_hand) {
    check_pair_mean<1>();
    check_pair_mean<4>();
    check_pair_mean<6>();
    check_pair_mean<16>();
    BOOST_TEST((decode_difference<decltype(pair_mean), gflow::dims{5, 9, 6}, 6>(9, 16) == 0.0));
}

// The fused node against its separate nodes (plucker, unit, window_mean): the same parameters
// (W_red, W_plu), the same formulas; only the grouping of sums differs (|p|², p̂ · dp̂, and at
// r >= 8 the fused node's whole rows), so outputs and gradients of size ~1 agree to a few units of
// precision of S (r² + 64 of them, below). `zero_row`: x_4 = 0, so z_4 = 0 spans no plane with
// any other z: p = 0 exactly, and the max form is clamped there. (Not z_4 = 2 z_3: with fused
// multiply-adds, z_i u_j - z_j u_i of parallel vectors is a rounding error, not 0, and p / |p| of
// a rounding error depends on which product the compiler fused.)
template <plucker_norm Norm, int R, class S>
void check_fused_against_parts(bool zero_row) {
    using Parts = gflow::bind<decltype(plucker_parts<Norm, R>), sizes, 6>;
    using Fused = gflow::bind<decltype(plucker_fused<Norm, R>), sizes, 6>;
    static_assert(Fused::graph::K == 3, "linear, the fused node, linear");
    static_assert(Parts::graph::K > Fused::graph::K);
    static_assert(Parts::param_size == Fused::param_size);
    gflow::rng gen(21 + R);
    std::vector<S> w(Parts::param_size), x(9 * 6), dy(9 * 6);
    for (auto& v : w) v = S(0.5 * gen.normal());
    for (auto& v : x) v = S(gen.normal());
    for (auto& v : dy) v = S(gen.normal());
    if (zero_row)
        for (int i = 0; i < 6; ++i) x[4 * 6 + i] = 0;
    auto run = [&]<class I>(std::vector<S>& y, std::vector<S>& dw, std::vector<S>& dx) {
        std::vector<S> a(I::act_size + 1);
        y.assign(x.size(), S(0));
        dx.assign(x.size(), S(0));
        dw.assign(w.size(), S(0));
        I::forward(gflow::pass{9, nullptr, 0}, w.data(), a.data(), x.data(), y.data());
        I::backward(gflow::pass{9, nullptr, 0}, w.data(), dw.data(), a.data(), x.data(), y.data(), dy.data(), dx.data());
    };
    std::vector<S> y1, dw1, dx1, y2, dw2, dx2;
    run.template operator()<Parts>(y1, dw1, dx1);
    run.template operator()<Fused>(y2, dw2, dx2);
    auto close = [](const std::vector<S>& a, const std::vector<S>& b) {
        double m = 0, s = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            m = std::max(m, std::abs(double(a[i]) - double(b[i])));
            s = std::max(s, std::abs(double(b[i])));
        }
        // the longest sums, |p|² and p̂ · dp̂, have C(r,2) terms each: r² roundings, and 64 for the rest
        return m <= gflow::testing::rounding_error<S>(64 + R * R, s);
    };
    BOOST_TEST_CONTEXT("r = " << R << ", " << sizeof(S) * 8 << "-bit, zero row " << zero_row) {
        BOOST_TEST(close(y1, y2));
        BOOST_TEST(close(dw1, dw2));
        BOOST_TEST(close(dx1, dx2));
    }
}
BOOST_AUTO_TEST_CASE(fused_plucker_mean_equals_its_parts) {
    check_fused_against_parts<plucker_norm::smooth, 4, double>(false);
    check_fused_against_parts<plucker_norm::smooth, 8, double>(false);
    check_fused_against_parts<plucker_norm::smooth, 16, double>(false);
    check_fused_against_parts<plucker_norm::max, 16, double>(true);
    check_fused_against_parts<plucker_norm::smooth, 32, double>(false);
    check_fused_against_parts<plucker_norm::max, 8, float>(true);   // whole rows on every vector target
    check_fused_against_parts<plucker_norm::max, 16, float>(true);
    check_fused_against_parts<plucker_norm::smooth, 32, float>(false);
}
