// GELU, exact (erf) and tanh-approximated: known values, the generated derivative against the
// closed form Φ(x) + x φ(x), and finite differences. Also the dual erf it is built on.
#define BOOST_TEST_MODULE paper_gelu
#include "../terms/term_check.hpp"

#include <cmath>
#include <numbers>

#include <gflow/core/dual_erf.hpp>
#include <gflow/terms/gelu.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 6, 8};

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(gelu_t, sizes, 8, 1);
    GFLOW_CHECK_TERM_GRADIENT(gelu_tanh_t, sizes, 8, 2);
}

BOOST_AUTO_TEST_CASE(known_values) {
    // x Φ(x): Φ(1) = 0.8413447460685429, Φ(-1) = 0.15865525393145707
    BOOST_TEST(gelu(1.0) == 0.8413447460685429, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(gelu(-1.0) == -0.15865525393145707, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(gelu(0.0) == 0.0);
    BOOST_TEST(gelu(2.0f) == 2.0f * 0.97724986805182079f, boost::test_tools::tolerance(1e-6f));
    // tanh form at 1: 0.5 (1 + tanh(√(2/π) 1.044715))
    BOOST_TEST(gelu_tanh(1.0) == 0.5 * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * 1.044715)),
               boost::test_tools::tolerance(1e-15));
    for (double x = -4; x <= 4; x += 0.25) BOOST_TEST(std::abs(gelu(x) - gelu_tanh(x)) < 1e-3);
}

BOOST_AUTO_TEST_CASE(generated_derivative_is_phi_plus_x_density) {
    for (double x = -3; x <= 3; x += 0.5) {
        const auto d = gelu(gflow::dual<double, 1>{x, {1.0}});
        const double cdf = 0.5 * (1 + std::erf(x / std::numbers::sqrt2));
        const double density = std::exp(-x * x / 2) / std::sqrt(2 * std::numbers::pi);
        BOOST_TEST(d.v == x * cdf, boost::test_tools::tolerance(1e-14));
        BOOST_TEST(d.d[0] == cdf + x * density, boost::test_tools::tolerance(1e-13));
    }
}

BOOST_AUTO_TEST_CASE(dual_erf_has_the_gaussian_derivative) {
    const auto e = gflow::math::erf(gflow::dual<double, 2>{0.5, {1.0, -2.0}});
    const double de = 2 / std::sqrt(std::numbers::pi) * std::exp(-0.25);
    BOOST_TEST(e.v == std::erf(0.5));
    BOOST_TEST(e.d[0] == de, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(e.d[1] == -2 * de, boost::test_tools::tolerance(1e-15));
}
