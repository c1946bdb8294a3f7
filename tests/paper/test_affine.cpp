// affine<Out, Name>: y = W x + b, by hand; its backward against finite differences; its names.
#define BOOST_TEST_MODULE paper_affine
#include "../terms/term_check.hpp"

#include <vector>

#include <gflow/terms/affine.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{7, 4, 5};

using fc = affine_t<3, "fc">;
using up = affine_t<9, "up">;
using to_one = affine_t<1, "to_one">;

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(fc, sizes, 5, 1);
    GFLOW_CHECK_TERM_GRADIENT(up, sizes, 2, 2);
    GFLOW_CHECK_TERM_GRADIENT(to_one, sizes, 6, 3);
}

BOOST_AUTO_TEST_CASE(forward_is_w_times_x_plus_b) {
    using I = gflow::bind<affine_t<2, "fc">, sizes, 3>;
    static_assert(I::param_size == 2 * 3 + 2 && I::out_width == 2);
    const double w[8] = {1, 2, 3, 4, 5, 6, /* bias */ 0.5, -1}, x[6] = {1, -1, 2, 0, 1, 0};
    double y[4];
    I::forward(gflow::pass{2, nullptr, 0}, w, static_cast<double*>(nullptr), x, y);
    BOOST_TEST(y[0] == 1 - 2 + 6 + 0.5);
    BOOST_TEST(y[1] == 4 - 5 + 12 - 1);
    BOOST_TEST(y[2] == 2 + 0.5);
    BOOST_TEST(y[3] == 5 - 1);
}

BOOST_AUTO_TEST_CASE(parameters_are_named_like_torch_linear) {
    std::vector<gflow::param_desc> names;
    gflow::bind<affine_t<3, "mlp_fc1">, sizes, 5>::for_each_param([&](const auto& d) { names.push_back(d); },
                                                                 10, "layer1.");
    BOOST_TEST(names.size() == 2u);
    BOOST_TEST(names[0].name == "layer1.mlp_fc1.weight");
    BOOST_TEST(names[0].rows == 3);
    BOOST_TEST(names[0].cols == 5);
    BOOST_TEST(names[0].offset == 10u);
    BOOST_TEST(names[1].name == "layer1.mlp_fc1.bias");
    BOOST_TEST(names[1].rows == 1);
    BOOST_TEST(names[1].cols == 3);
    BOOST_TEST(names[1].offset == 25u);
    names.clear();
    gflow::bind<decltype(affine<4>), sizes, 5>::for_each_param([&](const auto& d) { names.push_back(d); }, 0, "");
    BOOST_TEST(names[0].name == "affine.weight");
}
