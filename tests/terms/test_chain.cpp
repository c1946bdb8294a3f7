#define BOOST_TEST_MODULE terms_chain
#include "term_check.hpp"

#include <type_traits>

#include <gflow/terms/chain.hpp>
#include <gflow/terms/elementwise.hpp>
#include <gflow/terms/linear.hpp>
#include <gflow/terms/rmsnorm.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 4, 6};
using three = decltype(rmsnorm >> linear<3, "A"> >> relu >> linear<7, "B">);

BOOST_AUTO_TEST_CASE(a_chain_is_flat) {
    static_assert(std::is_same_v<three, gflow::chain_t<rmsnorm_t, linear_t<3, "A">, relu_t, linear_t<7, "B">>>);
    using I = gflow::bind<three, sizes, 6>;
    static_assert(I::in_width == 6 && I::out_width == 7);
    static_assert(I::param_size == 3 * 6 + 7 * 3);
}

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(three, sizes, 6, 1);
}
