#define BOOST_TEST_MODULE terms_rmsnorm
#include "term_check.hpp"

#include <cmath>

#include <gflow/terms/rmsnorm.hpp>
#include <gflow/testing/tolerance.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 6, 8};

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(rmsnorm_t, sizes, 8, 1);
    GFLOW_CHECK_TERM_GRADIENT(rmsnorm_t, sizes, 3, 2);
}

BOOST_AUTO_TEST_CASE(forward_divides_by_the_root_mean_square) {
    using I = gflow::bind<rmsnorm_t, sizes, 2>;
    const double x[2] = {3, 4};   // mean square 12.5
    double y[2], a[I::act_size];
    const gflow::pass p{1, nullptr, 0};
    I::forward(p, static_cast<const double*>(nullptr), a, x, y);
    const double r = 1 / std::sqrt(12.5 + 1e-5);
    // relative error: the term rounds the squares, their sum and mean, + eps, sqrt, the division
    // and the product (7 roundings), this test + eps, sqrt, 1 / and the product (4)
    const double bound = gflow::testing::roundings(7 + 4);
    BOOST_TEST(y[0] == 3 * r, boost::test_tools::tolerance(bound));
    BOOST_TEST(y[1] == 4 * r, boost::test_tools::tolerance(bound));
}
