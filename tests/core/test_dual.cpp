// Dual numbers: each function's derivative against its closed form.
#define BOOST_TEST_MODULE core_dual
#include <boost/test/unit_test.hpp>

#include <cmath>

#include <gflow/core/dual.hpp>

using d2 = gflow::dual<double, 2>;

BOOST_AUTO_TEST_CASE(arithmetic_carries_both_tangents) {
    const d2 x{1.5, {1, 0}}, y{-0.5, {0, 1}};
    const auto r = (x * y + 3.0 * x) / (y - 2.0);   // f = (xy + 3x) / (y - 2)
    const double f = (1.5 * -0.5 + 4.5) / (-2.5);
    BOOST_TEST(r.v == f, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(r.d[0] == (-0.5 + 3.0) / -2.5, boost::test_tools::tolerance(1e-15));   // df/dx
    BOOST_TEST(r.d[1] == (1.5 * -2.5 - (1.5 * -0.5 + 4.5)) / 6.25, boost::test_tools::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(functions_follow_the_chain_rule) {
    using gflow::dual;
    const dual<double, 1> x{0.7, {1}};
    BOOST_TEST(gflow::exp(x).d[0] == std::exp(0.7), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(gflow::log(x).d[0] == 1 / 0.7, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(gflow::sqrt(x).d[0] == 0.5 / std::sqrt(0.7), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(gflow::tanh(x).d[0] == 1 - std::tanh(0.7) * std::tanh(0.7), boost::test_tools::tolerance(1e-15));
    const double s = 1 / (1 + std::exp(-0.7));
    BOOST_TEST(gflow::sigmoid(x).d[0] == s * (1 - s), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(gflow::relu(x).d[0] == 1.0);
    BOOST_TEST(gflow::relu(dual<double, 1>{-0.7, {1}}).d[0] == 0.0);
    BOOST_TEST(gflow::relu(dual<double, 1>{-0.7, {1}}).v == 0.0);
    BOOST_TEST((1.0 / x).d[0] == -1 / (0.7 * 0.7), boost::test_tools::tolerance(1e-15));
    BOOST_TEST((2.0 - x).d[0] == -1.0);
}
