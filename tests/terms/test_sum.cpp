#define BOOST_TEST_MODULE terms_sum
#include "term_check.hpp"

#include <gflow/terms/chain.hpp>
#include <gflow/terms/linear.hpp>
#include <gflow/terms/rmsnorm.hpp>
#include <gflow/terms/sum.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 4, 6};
// both branches need their own output in backward (rmsnorm reads y)
using branches = decltype((rmsnorm >> linear<3, "A">) + (linear<3, "B"> >> rmsnorm));

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(branches, sizes, 6, 1);
}
