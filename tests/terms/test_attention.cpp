// Causal multi-head attention: by hand on a small case, and its backward against finite
// differences.
#define BOOST_TEST_MODULE terms_attention
#include "term_check.hpp"

#include <array>
#include <cmath>

#include <gflow/terms/attention.hpp>
#include <gflow/testing/tolerance.hpp>

using namespace gflow::terms;

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(attention_t<4>, (gflow::dims{5, 6, 8}), 8, 1);
    GFLOW_CHECK_TERM_GRADIENT(attention_t<1>, (gflow::dims{5, 5, 3}), 3, 2);
    GFLOW_CHECK_TERM_GRADIENT(attention_t<2>, (gflow::dims{5, 7, 6}), 6, 3);
}

BOOST_AUTO_TEST_CASE(forward_by_hand_is_causal) {
    constexpr gflow::dims sizes{3, 2, 2};
    using I = gflow::bind<attention_t<1>, sizes, 2>;
    std::array<double, I::param_size> w{};
    for (auto m : {I::param("attn_wq"), I::param("attn_wk"), I::param("attn_wv"), I::param("attn_wo")}) {   // every matrix the identity
        w[m + 0] = 1;
        w[m + 3] = 1;
    }
    const std::array<double, 4> h{1, 0, 0, 2};
    std::array<double, 4> y{};
    std::array<double, I::act_size> a{};
    I::forward(gflow::pass{2, nullptr, 0}, w.data(), a.data(), h.data(), y.data());
    // t = 0 sees only itself
    BOOST_TEST(y[0] == 1.0);
    BOOST_TEST(y[1] == 0.0);
    // t = 1: scores q1.k0 = 0, q1.k1 = 4, scaled by 1/sqrt(2)
    const double e0 = 1, e1 = std::exp(4 / std::sqrt(2.0)), a0 = e0 / (e0 + e1), a1 = e1 / (e0 + e1);
    // relative error: the term rounds the score (dot of 2, scale: 3), the shift and exp (2), whose
    // argument's error (3 roundings of a number of size 2.9) exp turns into 3 × 2.9 relative, the
    // sum and division (2), the weighted sum and the output projection (4); this test about as
    // many again
    const double bound = gflow::testing::roundings(2 * (3 + 2 + 9 + 2 + 4));
    BOOST_TEST(y[2] == a0 * 1 + a1 * 0, boost::test_tools::tolerance(bound));
    BOOST_TEST(y[3] == a0 * 0 + a1 * 2, boost::test_tools::tolerance(bound));
}
