// A user-written elementwise term gets its derivative generated: GELU as x * sigmoid(1.702 x).
#define BOOST_TEST_MODULE terms_elementwise
#include "term_check.hpp"

#include <cmath>

#include <gflow/terms/elementwise.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 6, 8};

constexpr auto gelu = elementwise<"gelu">([](auto x) { return x * sigmoid(1.702 * x); });
constexpr auto softplus = elementwise([](auto x) { return log(1 + exp(x)); });

BOOST_AUTO_TEST_CASE(generated_gradients_match_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(decltype(gelu), sizes, 8, 1);
    GFLOW_CHECK_TERM_GRADIENT(decltype(softplus), sizes, 8, 2);
    GFLOW_CHECK_TERM_GRADIENT(relu_t, sizes, 8, 3);
}

BOOST_AUTO_TEST_CASE(an_elementwise_term_is_also_its_function) {
    BOOST_TEST(gelu(1.0) == 1.0 / (1.0 + std::exp(-1.702)), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(relu(-2.0) == 0.0);
    BOOST_TEST(relu(2.0) == 2.0);
}
