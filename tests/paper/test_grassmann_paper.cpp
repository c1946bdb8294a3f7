// The paper's Grassmann mixer: its formula by hand on a tiny case (biases, the gate on [h; g],
// g = 0 before the first partner), both normalisations' backward against finite differences,
// decoding one token at a time against the sequence forward, and the microGrassmann mixer
// (docs/benchmarks.md#grassmann-mixer) as a special case.
#define BOOST_TEST_MODULE paper_grassmann
#include "../terms/term_check.hpp"

#include <array>
#include <cmath>
#include <vector>

#include <gflow/random.hpp>
#include <gflow/terms/grassmann.hpp>
#include <gflow/terms/grassmann_paper.hpp>
#include <gflow/testing/tolerance.hpp>

using namespace gflow::terms;

// Where the mixer's mean of p̂ lies in its activations: the value that W_plu maps [T][C(r,2)].
template <class I>
constexpr std::size_t mean_of_p = I::layout.value[I::input_node_of("W_plu")];
constexpr auto smooth = plucker_norm::smooth;

using paper_window_max = decltype(grassmann_paper<4>(offsets<1, 2, 4, 8, 12, 16>));
using paper_window_smooth = decltype(grassmann_paper<4, smooth>(offsets<1, 2, 4, 8, 12, 16>));
using small_max = decltype(grassmann_paper<3>(offsets<1, 3>));
using small_smooth = decltype(grassmann_paper<3, smooth>(offsets<1, 3>));
using late_max = decltype(grassmann_paper<2>(offsets<2>));          // two rows without a partner
using late_smooth = decltype(grassmann_paper<2, smooth>(offsets<2>));
using wide_max = decltype(grassmann_paper<5>(offsets<1, 2, 4>));
using wide_smooth = decltype(grassmann_paper<5, smooth>(offsets<1, 2, 4>));

static_assert(std::is_same_v<paper_window_max, grassmann_paper_t<4, plucker_norm::max, 1, 2, 4, 8, 12, 16>>,
              "the paper's max(|p|, eps) is the default normalisation");
static_assert(gflow::mixer<paper_window_max, gflow::dims{5, 16, 8}, 8>);
static_assert(gflow::mixer<small_smooth, gflow::dims{5, 7, 6}, 6>);

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences_max_norm) {
    GFLOW_CHECK_TERM_GRADIENT(paper_window_max, (gflow::dims{5, 16, 8}), 8, 1);   // offsets past n too
    GFLOW_CHECK_TERM_GRADIENT(small_max, (gflow::dims{5, 7, 6}), 6, 2);
    GFLOW_CHECK_TERM_GRADIENT(late_max, (gflow::dims{5, 5, 4}), 4, 3);
    GFLOW_CHECK_TERM_GRADIENT(wide_max, (gflow::dims{5, 9, 7}), 7, 4);
}

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences_smooth_norm) {
    GFLOW_CHECK_TERM_GRADIENT(paper_window_smooth, (gflow::dims{5, 16, 8}), 8, 1);
    GFLOW_CHECK_TERM_GRADIENT(small_smooth, (gflow::dims{5, 7, 6}), 6, 2);
    GFLOW_CHECK_TERM_GRADIENT(late_smooth, (gflow::dims{5, 5, 4}), 4, 3);
    GFLOW_CHECK_TERM_GRADIENT(wide_smooth, (gflow::dims{5, 9, 7}), 7, 4);
}

namespace {
double sig(double x) { return 1 / (1 + std::exp(-x)); }

// d = 2, r = 2, one offset. W_red = I, b_red = (0.5, 0); W_plu = [[1], [0]], b_plu = (0.25, -0.5);
// W_gate = [[1, 0 | 0, 0], [0, 0 | 0, 1]] (row 0 reads h[0], row 1 reads g[1]), b_gate = (0, 0.3).
template <gflow::terms::plucker_norm Norm>
std::array<double, 4> tiny_forward() {
    constexpr gflow::dims sizes{3, 2, 2};
    using I = gflow::bind<decltype(grassmann_paper<2, Norm>(offsets<1>)), sizes, 2>;
    static_assert(I::param_size == 4 + 2 + 2 + 2 + 8 + 2);
    std::array<double, I::param_size> w{};
    w[I::param("W_red") + 0] = 1;
    w[I::param("W_red") + 3] = 1;
    w[I::param("b_red") + 0] = 0.5;
    w[I::param("W_plu") + 0] = 1;
    w[I::param("b_plu") + 0] = 0.25;
    w[I::param("b_plu") + 1] = -0.5;
    w[I::param("W_gate") + 0 * 4 + 0] = 1;   // h[0]
    w[I::param("W_gate") + 1 * 4 + 3] = 1;   // g[1]
    w[I::param("b_gate") + 1] = 0.3;
    const std::array<double, 4> h{1, 0, 0.6, 0.8};   // [T][d]
    std::array<double, 4> y{};
    std::array<double, I::act_size> a{};
    I::forward(gflow::pass{2, nullptr, 0}, w.data(), a.data(), h.data(), y.data());
    return y;
}
}  // namespace

BOOST_AUTO_TEST_CASE(forward_by_hand_with_biases_and_the_concatenated_gate) {
    // z_0 = (1.5, 0), z_1 = (1.1, 0.8); p_01(t=1) = z_1[0] z_0[1] - z_1[1] z_0[0] = -1.2
    for (const double phat : {-1.0 /* max */, -1.2 / std::sqrt(1.44 + 1e-8) /* smooth */}) {
        const auto y = phat == -1.0 ? tiny_forward<plucker_norm::max>() : tiny_forward<smooth>();
        // t = 0: no earlier position, g = 0 (not b_plu); gate = (h[0], g[1] + 0.3) = (1, 0.3)
        // The gate's product and bias, the sigmoid (exp, + 1, division), the Plücker value and
        // the mix: under 16 roundings in the term and as many in this test, of numbers of the
        // size of the mix's two products (compared absolutely: y[2], y[3] are differences)
        auto close = [](double got, double alpha, double h, double g) {
            return std::abs(got - (alpha * h + (1 - alpha) * g)) <=
                   gflow::testing::rounding_error(2 * 16, std::abs(alpha * h) + std::abs((1 - alpha) * g));
        };
        BOOST_TEST(close(y[0], sig(1), 1, 0));
        BOOST_TEST(y[1] == 0.0);
        // t = 1: g = (p̂ + 0.25, -0.5); gate = (0.6, -0.5 + 0.3)
        const double g0 = phat + 0.25, g1 = -0.5;
        BOOST_TEST(close(y[2], sig(0.6), 0.6, g0));
        BOOST_TEST(close(y[3], sig(-0.2), 0.8, g1));
    }
}

BOOST_AUTO_TEST_CASE(a_vanishing_plucker_vector_gives_finite_values) {
    // z_1 = 2 z_0: the two vectors span no plane, p = 0. The max form is clamped (p̂ = p / eps = 0),
    // the smooth one divides by 1e-4; both give p̂ = 0 and finite gradients.
    static constexpr gflow::dims sizes{3, 2, 2};   // (static: clang wants a plain constexpr captured)
    auto run = []<class M>(M) {
        using I = gflow::bind<M, sizes, 2>;
        std::array<double, I::param_size> w{}, dw{};
        w[I::param("W_red") + 0] = 1;
        w[I::param("W_red") + 3] = 1;
        w[I::param("W_plu") + 0] = 1;
        const std::array<double, 4> h{1, 2, 2, 4}, dy{1, 1, 1, 1};
        std::array<double, 4> y{}, dh{};
        std::array<double, I::act_size> a{};
        const gflow::pass p{2, nullptr, 0};
        I::forward(p, w.data(), a.data(), h.data(), y.data());
        I::backward(p, w.data(), dw.data(), a.data(), h.data(), y.data(), dy.data(), dh.data());
        BOOST_TEST(a[mean_of_p<I> + 1] == 0.0);
        for (double v : y) BOOST_TEST(std::isfinite(v));
        for (double v : dh) BOOST_TEST(std::isfinite(v));
        for (double v : dw) BOOST_TEST(std::isfinite(v));
    };
    run(grassmann_paper<2>(offsets<1>));
    run(grassmann_paper<2, smooth>(offsets<1>));
}

namespace {
// Decoding position by position (ring of the last max(window) z) against the sequence forward.
template <class M>
double decode_vs_forward() {
    constexpr gflow::dims sizes{5, 23, 6};   // 23 > 2 max(window): the ring wraps twice
    using I = gflow::bind<M, sizes, 6>;
    constexpr int T = sizes.block, W = 6;
    gflow::rng gen(7);
    std::vector<double> w(I::param_size), h(T * W), y(T * W), y1(W), a(I::act_size), ring(I::state_size);
    for (auto& v : w) v = 0.5 * gen.normal();
    for (auto& v : h) v = gen.normal();
    I::forward(gflow::pass{T, nullptr, 0}, w.data(), a.data(), h.data(), y.data());
    double worst = 0;
    for (int t = 0; t < T; ++t) {
        I::decode(gflow::pass{1, nullptr, t}, w.data(), a.data(), ring.data(), h.data() + t * W, y1.data());
        for (int i = 0; i < W; ++i) worst = std::max(worst, std::abs(y1[i] - y[t * W + i]));
    }
    return worst;
}
}  // namespace

BOOST_AUTO_TEST_CASE(decoding_one_token_at_a_time_matches_the_sequence_forward) {
    using max_mixer = decltype(grassmann_paper<4>(offsets<2, 3, 7>));   // g = 0 at t = 0, 1
    using smooth_mixer = decltype(grassmann_paper<4, smooth>(offsets<1, 2, 4, 8>));
    // Both paths run the same operations on values of size < 8 (normal inputs, weights 0.5 N(0,1)),
    // grouped differently: at most the roundings of one output (the gate's dot product of 2W = 12
    // terms, the reduction of 6, the Plücker map and its norm, the mean over 4 offsets, W_plu's 6
    // terms, the mix: under 40) times that size
    const double bound = gflow::testing::rounding_error(40, 8.0);
    BOOST_TEST(decode_vs_forward<max_mixer>() <= bound);
    BOOST_TEST(decode_vs_forward<smooth_mixer>() <= bound);
    static_assert(gflow::bind<max_mixer, gflow::dims{5, 23, 6}, 6>::state_size == 7 * 4);
}

BOOST_AUTO_TEST_CASE(without_biases_and_with_the_smooth_norm_it_is_specs_mixer) {
    // grassmann.hpp's W_gate_h h + W_gate_g g is W_gate [h; g] with W_gate = [W_gate_h | W_gate_g]
    constexpr gflow::dims sizes{5, 12, 6};
    constexpr int T = sizes.block, W = 6;
    using P = gflow::bind<decltype(grassmann_paper<3, smooth>(offsets<1, 2, 5>)), sizes, W>;
    using S = gflow::bind<decltype(grassmann<3>(offsets<1, 2, 5>)), sizes, W>;
    gflow::rng gen(3);
    std::vector<double> ws(S::param_size), wp(P::param_size, 0.0), h(T * W), ys(T * W), yp(T * W);
    std::vector<double> as(S::act_size), ap(P::act_size);
    for (auto& v : ws) v = 0.5 * gen.normal();
    for (auto& v : h) v = gen.normal();
    for (int i = 0; i < 3 * W; ++i) wp[P::param("W_red") + i] = ws[S::param("W_red") + i];
    for (int i = 0; i < W * 3; ++i) wp[P::param("W_plu") + i] = ws[S::param("W_plu") + i];
    for (int o = 0; o < W; ++o)
        for (int i = 0; i < W; ++i) {
            wp[P::param("W_gate") + o * 2 * W + i] = ws[S::param("W_gate_h") + o * W + i];
            wp[P::param("W_gate") + o * 2 * W + W + i] = ws[S::param("W_gate_g") + o * W + i];
        }
    S::forward(gflow::pass{T, nullptr, 0}, ws.data(), as.data(), h.data(), ys.data());
    P::forward(gflow::pass{T, nullptr, 0}, wp.data(), ap.data(), h.data(), yp.data());
    // The two terms compute the same sums grouped differently: each output is at most ~40
    // roundings (as above) of numbers of size < 8, compared absolutely (an output can be ~0)
    for (int i = 0; i < T * W; ++i) BOOST_TEST(std::abs(yp[i] - ys[i]) <= gflow::testing::rounding_error(2 * 40, 8.0));
}

BOOST_AUTO_TEST_CASE(parameters_are_named_by_the_papers_symbols) {
    using I = gflow::bind<paper_window_max, gflow::dims{5, 16, 8}, 8>;
    std::vector<gflow::param_desc> names;
    I::for_each_param([&](const auto& d) { names.push_back(d); }, 0, "layer0.");
    const std::array<const char*, 6> expected{"layer0.W_red", "layer0.b_red", "layer0.W_plu",
                                              "layer0.b_plu", "layer0.W_gate", "layer0.b_gate"};
    BOOST_TEST(names.size() == expected.size());
    std::size_t total = 0;
    for (std::size_t k = 0; k < names.size(); ++k) {
        BOOST_TEST(names[k].name == expected[k]);
        BOOST_TEST(names[k].offset == total);
        total += std::size_t(names[k].rows) * names[k].cols;
    }
    BOOST_TEST(total == I::param_size);
    // r d + r + d C(r,2) + d + 2 d² + d with d = 8, r = 4: 32 + 4 + 48 + 8 + 128 + 8
    BOOST_TEST(I::param_size == 228u);
    BOOST_TEST(names[4].rows == 8);
    BOOST_TEST(names[4].cols == 16);
}
