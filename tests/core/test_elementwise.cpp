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
