#define BOOST_TEST_MODULE terms_rmsnorm
#include "term_check.hpp"

#include <cmath>

#include <gflow/terms/rmsnorm.hpp>

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
    BOOST_TEST(y[0] == 3 * r, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(y[1] == 4 * r, boost::test_tools::tolerance(1e-15));
}
