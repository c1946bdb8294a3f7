// LayerNorm with gain and bias: the formula by hand, its hand-derived backward against finite
// differences, and its parameter names.
#define BOOST_TEST_MODULE paper_layernorm
#include "../terms/term_check.hpp"

#include <cmath>
#include <vector>

#include <gflow/terms/layernorm.hpp>
#include <gflow/testing/tolerance.hpp>

using namespace gflow::terms;
using gflow::testing::rounding_error;
constexpr gflow::dims sizes{5, 6, 8};

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(layernorm_t<>, sizes, 8, 1);
    GFLOW_CHECK_TERM_GRADIENT(layernorm_t<"ln1">, sizes, 3, 2);
    GFLOW_CHECK_TERM_GRADIENT(layernorm_t<"ln2">, sizes, 2, 3);   // the smallest width
    GFLOW_CHECK_TERM_GRADIENT(layernorm_t<>, (gflow::dims{5, 3, 33}), 33, 4);
}

BOOST_AUTO_TEST_CASE(forward_centres_scales_then_applies_gain_and_bias) {
    using I = gflow::bind<layernorm_t<>, sizes, 4>;
    static_assert(I::param_size == 8 && I::out_width == 4);
    // x = (1, 2, 3, 6): mean 3, deviations (-2, -1, 0, 3), variance (4 + 1 + 0 + 9) / 4 = 3.5
    const double x[4] = {1, 2, 3, 6};
    const double w[8] = {1, 2, -1, 0.5, /* bias */ 0, 1, 0, -2};
    double y[4], a[I::act_size];
    I::forward(gflow::pass{1, nullptr, 0}, w, a, x, y);
    const double r = 1 / std::sqrt(3.5 + 1e-5);
    // The mean and the deviations are exact here; the variance (4 squares, 3 sums, 1 division),
    // + eps, sqrt, the division, gain and bias are 13 roundings, this test's formula 5, each of
    // numbers no larger than |gain · x̂| + |bias| (compared absolutely: y[1] is a difference).
    auto close = [&](double got, double gain_xhat, double bias) {
        return std::abs(got - (gain_xhat + bias)) <= rounding_error(13 + 5, std::abs(gain_xhat) + std::abs(bias));
    };
    BOOST_TEST(close(y[0], 1 * -2 * r, 0));
    BOOST_TEST(close(y[1], 2 * -1 * r, 1));
    BOOST_TEST(y[2] == 0.0);   // its deviation is exactly 0
    BOOST_TEST(close(y[3], 0.5 * 3 * r, -2));
}

BOOST_AUTO_TEST_CASE(output_has_zero_mean_and_unit_variance_before_gain_and_bias) {
    using I = gflow::bind<layernorm_t<>, sizes, 8>;
    double w[16], x[16], y[16], a[I::act_size];
    for (int i = 0; i < 8; ++i) w[i] = 1, w[8 + i] = 0;
    for (int i = 0; i < 16; ++i) x[i] = 100 + std::sin(1.0 + i);   // a large mean, which centring cancels
    I::forward(gflow::pass{2, nullptr, 0}, w, a, x, y);
    for (int t = 0; t < 2; ++t) {
        double mean = 0, square = 0;
        for (int i = 0; i < 8; ++i) mean += y[t * 8 + i] / 8;
        for (int i = 0; i < 8; ++i) square += (y[t * 8 + i] - mean) * (y[t * 8 + i] - mean) / 8;
        // The output is (x - mean(x)) / sd with x ~ 100: the mean of 8 inputs and each
        // difference carry rounding errors of size u·101 (8 + 1 roundings), the division by sd
        // scales them by 1/sd, and the test's own mean of 8 outputs adds 8 roundings of numbers
        // of size |y| <= 3. The exact mean is 0.
        double x_mean = 0, x_var = 0;
        for (int i = 0; i < 8; ++i) x_mean += x[t * 8 + i] / 8;
        for (int i = 0; i < 8; ++i) x_var += (x[t * 8 + i] - x_mean) * (x[t * 8 + i] - x_mean) / 8;
        const double bound = rounding_error(8 + 1 + 2, 101.0) / std::sqrt(x_var) + rounding_error(8, 3.0);
        BOOST_TEST(std::abs(mean) <= bound);
        BOOST_TEST(square == 1.0, boost::test_tools::tolerance(1e-4));   // eps 1e-5 / var ~0.5
    }
}

BOOST_AUTO_TEST_CASE(parameters_are_named_after_the_term) {
    std::vector<gflow::param_desc> names;
    gflow::bind<layernorm_t<"ln1">, sizes, 8>::for_each_param([&](const auto& d) { names.push_back(d); }, 10,
                                                             "layer0.");
    BOOST_TEST(names.size() == 2u);
    BOOST_TEST(names[0].name == "layer0.ln1.gain");
    BOOST_TEST(names[1].name == "layer0.ln1.bias");
    BOOST_TEST(names[0].rows == 1);
    BOOST_TEST(names[0].cols == 8);
    BOOST_TEST(names[0].offset == 10u);
    BOOST_TEST(names[1].offset == 18u);
    names.clear();
    gflow::bind<decltype(layernorm<>), sizes, 8>::for_each_param([&](const auto& d) { names.push_back(d); }, 0, "");
    BOOST_TEST(names[0].name == "ln.gain");
}
