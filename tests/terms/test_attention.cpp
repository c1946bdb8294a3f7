// Causal multi-head attention: by hand on a small case, and its backward against finite
// differences.
#define BOOST_TEST_MODULE terms_attention
#include "term_check.hpp"

#include <array>
#include <cmath>

#include <gflow/core/blas.hpp>
#include <gflow/core/causal_attention.hpp>
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

// The products through the BLAS (expr/attend.hpp's through_blas, every product with
// blas::min_work() = 0), causal by blocks of 32 rows: 75 rows are blocks of 32, 32 and 11, in
// buffers of 80 (rows of stride T = 80, not n). The gradient against finite differences, and the
// forward against decoding (the loops) position by position.
BOOST_AUTO_TEST_CASE(products_through_the_blas_by_causal_blocks) {
    struct every_product_through_the_blas {
        long saved = gflow::blas::min_work();
        every_product_through_the_blas() { gflow::blas::min_work() = 0; }
        ~every_product_through_the_blas() { gflow::blas::min_work() = saved; }
    } guard;
    constexpr gflow::dims sizes{5, 80, 8};
    const auto report = gflow::testing::check_term<attention_t<2>, sizes, 8>(4, 75);
    BOOST_TEST_MESSAGE("attention_t<2> over 75 rows: " << report.checked << " components, max relative error "
                                                       << report.max_relative_error << " (" << report.worst << ")");
    BOOST_TEST(report.max_relative_error <= 1e-6, report.worst);
    // sums of up to 75 terms and dot products of 2 (a head) and 8 in other groupings
    const double difference = gflow::testing::decode_difference<attention_t<4>, sizes, 8>(75, 5);
    BOOST_TEST_MESSAGE("decoding against the forward over 75 rows: " << difference);
    BOOST_TEST(difference <= gflow::testing::rounding_error(256, 1.0));
}

// The heads on gflow's own kernels (core/causal_attention.hpp, every sequence with
// causal::min_work() = 0), by row tiles of 8: 75 rows are 9 tiles and 3 rows, in buffers of 80.
// Heads of 4 (less than a vector) and 16 (a vector of floats on AVX-512, two of doubles). The
// gradient against finite differences, and the forward against decoding (the loops) position by
// position.
BOOST_AUTO_TEST_CASE(heads_on_the_causal_kernels_by_row_tiles) {
    struct every_sequence_on_the_kernels {
        long saved = gflow::kernels::causal::min_work();
        every_sequence_on_the_kernels() { gflow::kernels::causal::min_work() = 0; }
        ~every_sequence_on_the_kernels() { gflow::kernels::causal::min_work() = saved; }
    } guard;
    constexpr gflow::dims sizes{5, 80, 8};
    const auto report = gflow::testing::check_term<attention_t<2>, sizes, 8>(4, 75);
    BOOST_TEST_MESSAGE("attention_t<2> over 75 rows: " << report.checked << " components, max relative error "
                                                       << report.max_relative_error << " (" << report.worst << ")");
    BOOST_TEST(report.max_relative_error <= 1e-6, report.worst);
    // weights of std 0.25, not 0.5: with 0.5, scores of about 8 make softmaxes so sharp that the
    // finite differences' own error reaches 1e-5 (width 32: there the loops' analytic gradient was
    // the kernels' to every digit printed, and the two numeric ones differed)
    constexpr gflow::dims wide{5, 48, 16};
    const auto wide_report = gflow::testing::check_term<attention_t<1>, wide, 16>(5, 41, 0.25);
    BOOST_TEST_MESSAGE("attention_t<1> of 16 over 41 rows: " << wide_report.checked << " components, max relative error "
                                                            << wide_report.max_relative_error << " (" << wide_report.worst << ")");
    BOOST_TEST(wide_report.max_relative_error <= 1e-6, wide_report.worst);
    // sums of up to 75 terms and dot products of 2 (a head) and 8 in other groupings
    const double difference = gflow::testing::decode_difference<attention_t<4>, sizes, 8>(75, 5);
    BOOST_TEST_MESSAGE("decoding against the forward over 75 rows: " << difference);
    BOOST_TEST(difference <= gflow::testing::rounding_error(256, 1.0));
}
