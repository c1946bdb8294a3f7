#define BOOST_TEST_MODULE terms_repeat
#include "term_check.hpp"

#include <gflow/terms/chain.hpp>
#include <gflow/terms/linear.hpp>
#include <gflow/terms/repeat.hpp>
#include <gflow/terms/residual.hpp>
#include <gflow/terms/rmsnorm.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 4, 6};
using layers = decltype(gflow::repeat<3>(gflow::residual(rmsnorm >> linear<6, "A">)));

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(layers, sizes, 6, 1);
}

BOOST_AUTO_TEST_CASE(each_layer_has_its_own_named_parameters) {
    std::vector<gflow::param_desc> names;
    gflow::bind<layers, sizes, 6>::for_each_param([&](const auto& d) { names.push_back(d); }, 0, "");
    BOOST_TEST(names.size() == 3u);
    BOOST_TEST(names[0].name == "layer0.A");
    BOOST_TEST(names[2].name == "layer2.A");
    BOOST_TEST(names[2].offset == 72u);
}
