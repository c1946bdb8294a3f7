#define BOOST_TEST_MODULE terms_linear
#include "term_check.hpp"

#include <gflow/terms/linear.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{7, 4, 5};

using up = linear_t<3, "W_up">;

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(up, sizes, 5, 1);
    GFLOW_CHECK_TERM_GRADIENT(lm_head_t, sizes, 5, 2);
}

BOOST_AUTO_TEST_CASE(forward_is_w_times_x_with_w_stored_out_by_in) {
    using I = gflow::bind<linear_t<2, "W">, sizes, 3>;
    static_assert(I::param_size == 6 && I::out_width == 2);
    const double w[6] = {1, 2, 3, 4, 5, 6}, x[3] = {1, -1, 2};
    double y[2];
    I::forward(gflow::pass{1, nullptr, 0}, w, static_cast<double*>(nullptr), x, y);
    BOOST_TEST(y[0] == 1 - 2 + 6);
    BOOST_TEST(y[1] == 4 - 5 + 12);
}

BOOST_AUTO_TEST_CASE(parameters_are_named_by_the_term) {
    std::vector<gflow::param_desc> names;
    gflow::bind<lm_head_t, sizes, 5>::for_each_param([&](const auto& d) { names.push_back(d); }, 10, "");
    BOOST_TEST(names.size() == 1u);
    BOOST_TEST(names[0].name == "lm_head");
    BOOST_TEST(names[0].rows == 7);
    BOOST_TEST(names[0].cols == 5);
    BOOST_TEST(names[0].offset == 10u);
}
