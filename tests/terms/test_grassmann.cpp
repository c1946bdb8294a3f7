// The Grassmann (Plücker) mixer: the formula of docs/benchmarks.md#grassmann-mixer by hand on small
// cases, and its fused backward (Plücker coordinates, normalisation, mean over existing offsets, gate and mix) against finite
// differences.
#define BOOST_TEST_MODULE terms_grassmann
#include "term_check.hpp"

#include <array>
#include <cmath>

#include <gflow/terms/grassmann.hpp>
#include <gflow/testing/tolerance.hpp>

using namespace gflow::terms;

// Where the mixer's mean of p̂ lies in its activations: the value that W_plu maps [T][C(r,2)].
template <class I>
constexpr std::size_t mean_of_p = I::layout.value[I::input_node_of("W_plu")];

using names_mixer = decltype(grassmann<4>(offsets<1, 2, 4, 8, 12, 16>));
using small_mixer = decltype(grassmann<3>(offsets<1, 3>));
using pair_mixer = decltype(grassmann<2>(offsets<2>));
using wide_mixer = decltype(grassmann<5>(offsets<1, 2, 4>));
// r = 19: rows of pairs longer than a vector of doubles (18 pairs (0, j)), so that the row-by-row
// loops of plucker_coordinates and its backward run whole vectors and a remainder.
using long_rows_mixer = decltype(grassmann<19>(offsets<1, 2>));

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(names_mixer, (gflow::dims{5, 16, 8}), 8, 1);   // offsets past n too
    GFLOW_CHECK_TERM_GRADIENT(small_mixer, (gflow::dims{5, 7, 6}), 6, 2);
    GFLOW_CHECK_TERM_GRADIENT(pair_mixer, (gflow::dims{5, 5, 4}), 4, 3);
    GFLOW_CHECK_TERM_GRADIENT(wide_mixer, (gflow::dims{5, 9, 7}), 7, 4);
    GFLOW_CHECK_TERM_GRADIENT(long_rows_mixer, (gflow::dims{5, 4, 6}), 4, 5);
}

BOOST_AUTO_TEST_CASE(plucker_coordinates_of_known_vectors) {
    const std::array<double, 4> z{1, 2, 3, 4}, u{0, 1, 0, 2};
    std::array<double, 6> p{};
    const double ss = plucker_coordinates<4>(z.data(), u.data(), p.data());
    // pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3); p_ij = z_i u_j - z_j u_i
    const std::array<double, 6> expected{1 * 1 - 2 * 0, 1 * 0 - 3 * 0, 1 * 2 - 4 * 0,
                                         2 * 0 - 3 * 1, 2 * 2 - 4 * 1, 3 * 2 - 4 * 0};
    for (int c = 0; c < 6; ++c) BOOST_TEST(p[c] == expected[c]);
    BOOST_TEST(ss == 1.0 + 0 + 4 + 9 + 0 + 36);
}

BOOST_AUTO_TEST_CASE(same_dot_product_different_planes) {
    // (a, b) and (a, c) have the same dot product, 1, but span different planes: the dot
    // product cannot tell them apart, the Plücker coordinates can.
    const std::array<double, 3> a{1, 0, 0}, b{1, 1, 0}, c{1, 0, 1};
    std::array<double, 3> pb{}, pc{};
    plucker_coordinates<3>(a.data(), b.data(), pb.data());
    plucker_coordinates<3>(a.data(), c.data(), pc.data());
    BOOST_TEST(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] == a[0] * c[0] + a[1] * c[1] + a[2] * c[2]);
    BOOST_TEST((pb == std::array<double, 3>{1, 0, 0}));
    BOOST_TEST((pc == std::array<double, 3>{0, 1, 0}));
    // and a pair's coordinates change sign when the pair is swapped (an oriented plane)
    std::array<double, 3> swapped{};
    plucker_coordinates<3>(b.data(), a.data(), swapped.data());
    BOOST_TEST((swapped == std::array<double, 3>{-1, 0, 0}));
}

BOOST_AUTO_TEST_CASE(forward_by_hand_r2_one_offset) {
    constexpr gflow::dims sizes{3, 2, 2};
    using I = gflow::bind<decltype(grassmann<2>(offsets<1>)), sizes, 2>;
    std::array<double, I::param_size> w{};
    w[I::param("W_red") + 0] = 1;   // W_red = identity: z = h
    w[I::param("W_red") + 3] = 1;
    w[I::param("W_plu") + 0] = 1;   // W_plu = [[1], [0]]: g = (p̂, 0); gates are 0: α = 1/2
    const std::array<double, 4> h{1, 0, 0.6, 0.8};
    std::array<double, 4> y{};
    std::array<double, I::act_size> a{};
    I::forward(gflow::pass{2, nullptr, 0}, w.data(), a.data(), h.data(), y.data());
    // t = 0: no earlier position, g = 0
    BOOST_TEST(y[0] == 0.5);
    BOOST_TEST(y[1] == 0.0);
    // t = 1: p_01 = z1[0] z0[1] - z1[1] z0[0] = -0.8, p̂ = p / sqrt(p^2 + 1e-8)
    const double phat = -0.8 / std::sqrt(0.64 + 1e-8);
    // p is exact; p^2, + eps, sqrt, the division, the mix: 5 roundings in the term and as many
    // here, of numbers of size 0.5 · 0.6 + 0.5 · |p̂| (compared absolutely: y[2] is a difference)
    BOOST_TEST(std::abs(y[2] - (0.5 * 0.6 + 0.5 * phat)) <= gflow::testing::rounding_error(10, 0.5 * 0.6 + 0.5 * std::abs(phat)));
    BOOST_TEST(y[3] == 0.5 * 0.8, boost::test_tools::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(mean_over_the_offsets_that_exist) {
    // offsets 1 and 2: at t = 1 only offset 1 exists, at t = 2 both; the mean divides by that count
    constexpr gflow::dims sizes{3, 3, 2};
    using I = gflow::bind<decltype(grassmann<2>(offsets<1, 2>)), sizes, 2>;
    std::array<double, I::param_size> w{};
    w[I::param("W_red") + 0] = 1;
    w[I::param("W_red") + 3] = 1;
    const std::array<double, 6> h{1, 0, 0, 1, -1, 0.5};
    std::array<double, 6> y{};
    std::array<double, I::act_size> a{};
    I::forward(gflow::pass{3, nullptr, 0}, w.data(), a.data(), h.data(), y.data());
    auto unit = [](double p) { return p / std::sqrt(p * p + 1e-8); };
    BOOST_TEST(a[mean_of_p<I> + 0] == 0.0);
    // p^2, + eps, sqrt, division: 4 roundings on each side; the mean of two adds 2
    BOOST_TEST(a[mean_of_p<I> + 1] == unit(0 * 0 - 1 * 1), boost::test_tools::tolerance(gflow::testing::roundings(8)));
    const double off1 = unit(-1 * 1 - 0.5 * 0), off2 = unit(-1 * 0 - 0.5 * 1);
    BOOST_TEST(a[mean_of_p<I> + 2] == (off1 + off2) / 2, boost::test_tools::tolerance(gflow::testing::roundings(12)));
}
