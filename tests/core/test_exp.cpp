// gflow::vexp, the exponential of core/exp.hpp, for numbers and for vectors of them.
#define BOOST_TEST_MODULE core_exp
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>

#include <gflow/core/exp.hpp>
#include <gflow/core/kernels.hpp>
#include <gflow/core/simd.hpp>

namespace {

// |got - exact| in units of the last place of exact rounded to S.
template <class S>
double ulps(S got, long double exact) {
    int exponent;
    std::frexp(static_cast<S>(exact), &exponent);
    const long double ulp = std::ldexp(1.0L, exponent - std::numeric_limits<S>::digits);
    return static_cast<double>(std::fabs(static_cast<long double>(got) - exact) / ulp);
}

// Random points of the range where the result is a normal number, each through the scalar vexp and
// through vexp on a vector of a register's lanes, against long double's exp. The bound: Cephes'
// polynomial and the reduction leave about 1 ulp (1.01 ulps in float and 1.68 in double measured
// here on 2e6 vectors), and 2 ulps holds them both; a wrong coefficient or a lost reduction step
// costs thousands.
template <class S>
void check_range(S lowest, S highest) {
    constexpr int L = gflow::simd::register_lanes<S> > 1 ? gflow::simd::register_lanes<S> : 2;
    using V = gflow::kernels::lanes<S, L>;
    std::mt19937_64 gen(7);
    std::uniform_real_distribution<S> uniform(lowest, highest);
    double worst_scalar = 0, worst_vector = 0;
    for (int round = 0; round < 20000; ++round) {
        V x;
        for (int j = 0; j < L; ++j) x[j] = uniform(gen);
        if (round == 0) x[0] = 0;
        const V y = gflow::vexp(x);
        for (int j = 0; j < L; ++j) {
            const long double exact = std::exp(static_cast<long double>(x[j]));
            worst_scalar = std::max(worst_scalar, ulps<S>(gflow::vexp(x[j]), exact));
            worst_vector = std::max(worst_vector, ulps<S>(y[j], exact));
        }
    }
    BOOST_TEST_CONTEXT(sizeof(S) * 8 << "-bit, " << L << " lanes") {
        BOOST_TEST(worst_scalar <= 2.0);
        BOOST_TEST(worst_vector <= 2.0);
        BOOST_TEST(gflow::vexp(S(0)) == S(1));
    }
}

// Outside the range the result is clamped to a normal number, never 0, a subnormal or infinity
// (a softmax divides by a sum of them), on vectors as on numbers.
template <class S>
void check_clamps(S lowest, S highest) {
    constexpr int L = gflow::simd::register_lanes<S> > 1 ? gflow::simd::register_lanes<S> : 2;
    using V = gflow::kernels::lanes<S, L>;   // (a register's lanes: no wider vector passed by value)
    const S huge = S(1e4), values[4] = {-huge, huge, -std::numeric_limits<S>::max(), std::numeric_limits<S>::max()};
    for (int first = 0; first < 4; first += L) {
        V x;
        for (int j = 0; j < L; ++j) x[j] = values[(first + j) % 4];
        const V y = gflow::vexp(x);
        for (int j = 0; j < L; ++j) {
            const S got = y[j], expected = gflow::vexp((first + j) % 2 == 0 ? lowest : highest);
            BOOST_TEST(std::isnormal(got));
            BOOST_TEST(got == gflow::vexp(x[j]));
            BOOST_TEST(got == expected);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(float_within_two_ulps_on_numbers_and_vectors) { check_range<float>(-87.0f, 88.0f); }
BOOST_AUTO_TEST_CASE(double_within_two_ulps_on_numbers_and_vectors) { check_range<double>(-708.0, 709.0); }
BOOST_AUTO_TEST_CASE(clamped_to_normal_numbers_outside_the_range) {
    check_clamps<float>(-87.0f, 88.0f);
    check_clamps<double>(-708.0, 709.0);
}
BOOST_AUTO_TEST_CASE(other_types_take_std_exp) {
    BOOST_TEST(gflow::vexp(1.0L) == std::exp(1.0L));
    static_assert(!gflow::float_lanes<float> && !gflow::float_lanes<float*> &&
                  gflow::float_lanes<gflow::kernels::lanes<float, 4>>);
}
