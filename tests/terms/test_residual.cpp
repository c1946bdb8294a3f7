#define BOOST_TEST_MODULE terms_residual
#include "term_check.hpp"

#include <gflow/terms/chain.hpp>
#include <gflow/terms/elementwise.hpp>
#include <gflow/terms/linear.hpp>
#include <gflow/terms/residual.hpp>
#include <gflow/terms/rmsnorm.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 4, 6};
using block = decltype(gflow::residual(rmsnorm >> linear<6, "A"> >> relu >> rmsnorm));

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(block, sizes, 6, 1);
}

BOOST_AUTO_TEST_CASE(forward_adds_the_input) {
    using I = gflow::bind<decltype(gflow::residual(linear<2, "A">)), sizes, 2>;
    const double w[4] = {1, 0, 0, 1}, x[2] = {3, -4};
    double y[2], a[I::act_size];
    I::forward(gflow::pass{1, nullptr, 0}, w, a, x, y);
    BOOST_TEST(y[0] == 6.0);
    BOOST_TEST(y[1] == -8.0);
}
