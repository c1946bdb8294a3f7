#define BOOST_TEST_MODULE terms_ffn
#include "term_check.hpp"

#include <gflow/terms/elementwise.hpp>
#include <gflow/terms/ffn.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 4, 6};
constexpr auto gelu = elementwise<"gelu">([](auto x) { return x * sigmoid(1.702 * x); });
using relu_ffn = decltype(ffn<4>(relu));
using gelu_ffn = decltype(ffn<2>(gelu));

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(relu_ffn, sizes, 6, 1);
    GFLOW_CHECK_TERM_GRADIENT(gelu_ffn, sizes, 6, 2);
}

BOOST_AUTO_TEST_CASE(shapes_and_names) {
    using I = gflow::bind<relu_ffn, sizes, 6>;
    static_assert(I::param_size == 2 * 4 * 6 * 6);
    std::vector<gflow::param_desc> names;
    I::for_each_param([&](const auto& d) { names.push_back(d); }, 0, "layer3.");
    BOOST_TEST(names.size() == 2u);
    BOOST_TEST(names[0].name == "layer3.mlp_fc1");
    BOOST_TEST(names[0].rows == 24);
    BOOST_TEST(names[0].cols == 6);
    BOOST_TEST(names[1].name == "layer3.mlp_fc2");
    BOOST_TEST(names[1].rows == 6);
    BOOST_TEST(names[1].cols == 24);
    BOOST_TEST(names[1].offset == 144u);
}
