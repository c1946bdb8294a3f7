// Fused elementwise maps: the generated backward of a multi-input function.
#define BOOST_TEST_MODULE core_elementwise
#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>

#include <gflow/core/elementwise.hpp>
#include <gflow/testing/tolerance.hpp>

namespace {
struct blend {   // the gate and mix of the Grassmann mixer, written once
    template <class A, class H, class G>
    auto operator()(const A& a, const H& h, const G& g) const {
        const auto alpha = gflow::math::sigmoid(a);
        return alpha * h + (1 - alpha) * g;
    }
};
}  // namespace

BOOST_AUTO_TEST_CASE(forward_and_generated_backward_of_the_gate_and_mix) {
    const std::array<double, 3> a{0.3, -1.2, 2.0}, h{1.0, 0.5, -0.25}, g{-0.5, 2.0, 0.75};
    const std::array<double, 3> dy{1.0, -2.0, 0.5};
    std::array<double, 3> y{}, da{}, dh{}, dg{};
    gflow::kernels::map_forward<blend>(3, y.data(), a.data(), h.data(), g.data());
    gflow::kernels::map_backward<blend, 3>(3, dy.data(), {a.data(), h.data(), g.data()},
                                           {da.data(), dh.data(), dg.data()});
    for (int i = 0; i < 3; ++i) {
        const double s = 1 / (1 + std::exp(-a[i]));
        // exp, + 1, division, 1 - s, two products and their sum: 7 roundings on each side (with or
        // without fused multiply-adds) of numbers of the size of the two products; compared
        // absolutely, as the two products can cancel
        BOOST_TEST(std::abs(y[i] - (s * h[i] + (1 - s) * g[i])) <=
                   gflow::testing::rounding_error(14, std::abs(s * h[i]) + std::abs((1 - s) * g[i])));
        BOOST_TEST(da[i] == dy[i] * s * (1 - s) * (h[i] - g[i]), boost::test_tools::tolerance(1e-14));
        BOOST_TEST(dh[i] == dy[i] * s, boost::test_tools::tolerance(1e-15));
        BOOST_TEST(dg[i] == dy[i] * (1 - s), boost::test_tools::tolerance(1e-15));
    }
}

BOOST_AUTO_TEST_CASE(backward_accumulates_and_skips_null_gradients) {
    const std::array<double, 2> a{0.1, 0.2}, h{1, 2}, g{3, 4}, dy{1, 1};
    std::array<double, 2> dh{10, 20};
    gflow::kernels::map_backward<blend, 3>(2, dy.data(), {a.data(), h.data(), g.data()},
                                           {nullptr, dh.data(), nullptr});
    BOOST_TEST(dh[0] == 10 + 1 / (1 + std::exp(-0.1)), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(dh[1] == 20 + 1 / (1 + std::exp(-0.2)), boost::test_tools::tolerance(1e-15));
}

// ---- maps on whole registers (functions that declare on_lanes) ------------------------------
namespace {
struct blend_on_lanes : blend {   // the same function, declared safe to run on vectors of lanes
    static constexpr bool on_lanes = true;
};
struct relu_on_lanes {
    static constexpr bool on_lanes = true;
    template <class X> auto operator()(const X& x) const { return gflow::math::relu(x) * 2 - x; }
};

// The lane path against the scalar path of the same function, on a count of three whole vectors
// and a remainder (so that both the vector loop and the tail run), forward and backward.
template <class S>
void check_lanes_against_scalars() {
    static_assert(gflow::kernels::detail::map_lanes<blend_on_lanes, S> == gflow::simd::register_lanes<S>);
    static_assert(gflow::kernels::detail::map_lanes<blend, S> == 1, "a lambda-like function stays scalar");
    constexpr int L = gflow::simd::register_lanes<S>, n = 3 * L + (L > 1 ? L - 1 : 0);
    std::array<S, n> a{}, h{}, g{}, dy{};
    for (int i = 0; i < n; ++i) {   // gates from -9 to 9: sigmoid near 0, 1/2 and 1
        a[i] = S(-9 + 18.0 * i / (n - 1));
        h[i] = S(std::sin(1.3 * i));
        g[i] = S(std::cos(0.7 * i) * 2);
        dy[i] = S(0.5 - 0.1 * (i % 7));
    }
    std::array<S, n> y1{}, y2{}, da1{}, dh1{}, dg1{}, da2{}, dh2{}, dg2{};
    gflow::kernels::map_forward<blend>(n, y1.data(), a.data(), h.data(), g.data());
    gflow::kernels::map_forward<blend_on_lanes>(n, y2.data(), a.data(), h.data(), g.data());
    gflow::kernels::map_backward<blend, 3>(n, dy.data(), {a.data(), h.data(), g.data()}, {da1.data(), dh1.data(), dg1.data()});
    gflow::kernels::map_backward<blend_on_lanes, 3>(n, dy.data(), {a.data(), h.data(), g.data()},
                                                    {da2.data(), dh2.data(), dg2.data()});
    for (int i = 0; i < n; ++i) {
        // each lane is the scalar call's arithmetic; the compiler may contract a multiply and an
        // add into one fused operation in one code and not the other: the 7 roundings of the
        // forward on each side (the first test above), on numbers of the size of the two products
        const double s = 1 / (1 + std::exp(-double(a[i])));
        const double size = std::abs(s * h[i]) + std::abs((1 - s) * g[i]);
        BOOST_TEST(std::abs(double(y2[i]) - double(y1[i])) <= gflow::testing::rounding_error<S>(14, size));
        // da = dy s (1 - s) (h - g): exp, sigmoid's 3, the derivative's 2, h - g, the products with
        // dy: about 10 roundings a side
        const double da_size = std::abs(dy[i]) * s * (1 - s) * (std::abs(h[i]) + std::abs(g[i]));
        BOOST_TEST(std::abs(double(da2[i]) - double(da1[i])) <= gflow::testing::rounding_error<S>(20, da_size));
        BOOST_TEST(std::abs(double(dh2[i]) - double(dh1[i])) <= gflow::testing::rounding_error<S>(12, std::abs(dy[i])));
        BOOST_TEST(std::abs(double(dg2[i]) - double(dg1[i])) <= gflow::testing::rounding_error<S>(12, std::abs(dy[i])));
    }
    // relu on lanes: no rounding at all, the derivative 0 at 0 as for a number
    std::array<S, n> x{}, r{}, dr{};
    for (int i = 0; i < n; ++i) x[i] = S(i % 3 - 1);   // -1, 0, 1, ...
    gflow::kernels::map_forward<relu_on_lanes>(n, r.data(), x.data());
    gflow::kernels::map_backward<relu_on_lanes, 1>(n, dy.data(), {x.data()}, {dr.data()});
    for (int i = 0; i < n; ++i) {
        BOOST_TEST(r[i] == (x[i] > 0 ? x[i] : -x[i]));
        BOOST_TEST(dr[i] == dy[i] * (x[i] > 0 ? 1 : -1));
    }
}
}  // namespace

BOOST_AUTO_TEST_CASE(maps_on_lanes_equal_the_scalar_maps_float) { check_lanes_against_scalars<float>(); }
BOOST_AUTO_TEST_CASE(maps_on_lanes_equal_the_scalar_maps_double) { check_lanes_against_scalars<double>(); }
BOOST_AUTO_TEST_CASE(long_double_maps_stay_scalar) {
    static_assert(gflow::kernels::detail::map_lanes<blend_on_lanes, long double> == 1);
    const std::array<long double, 2> a{0.25L, -0.5L}, h{1, 2}, g{3, 4};
    std::array<long double, 2> y{};
    gflow::kernels::map_forward<blend_on_lanes>(2, y.data(), a.data(), h.data(), g.data());
    const long double s = 1 / (1 + std::exp(-0.25L));
    // std::exp on both sides; sigmoid's 3 roundings and the mix's 4, on numbers up to 3
    BOOST_TEST(double(std::abs(y[0] - (s * 1 + (1 - s) * 3))) <= gflow::testing::rounding_error<long double>(14, 3));
}
