#define BOOST_TEST_MODULE terms_embedding
#include "term_check.hpp"

#include <gflow/terms/embedding.hpp>
#include <gflow/terms/sum.hpp>

using namespace gflow::terms;
constexpr gflow::dims sizes{6, 5, 4};

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(token_embedding_t, sizes, 0, 1);
    GFLOW_CHECK_TERM_GRADIENT(position_embedding_t, sizes, 0, 2);
    GFLOW_CHECK_TERM_GRADIENT(decltype(token_embedding + position_embedding), sizes, 0, 3);
}

BOOST_AUTO_TEST_CASE(forward_looks_up_rows) {
    using I = gflow::bind<decltype(token_embedding + position_embedding), sizes, 0>;
    std::vector<double> w(I::param_size), a(I::act_size), y(2 * 4);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = double(i);
    const int tokens[2] = {3, 1};
    I::forward(gflow::pass{2, tokens, 0}, w.data(), a.data(), static_cast<const double*>(nullptr), y.data());
    const std::size_t wpe = 6 * 4;   // wpe follows wte
    for (int i = 0; i < 4; ++i) {
        BOOST_TEST(y[i] == w[3 * 4 + i] + w[wpe + i]);
        BOOST_TEST(y[4 + i] == w[1 * 4 + i] + w[wpe + 4 + i]);
    }
}
