// The generator: same seed, same stream; sane moments; unbiased bounded draws.
#define BOOST_TEST_MODULE core_random
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <vector>

#include <gflow/random.hpp>

BOOST_AUTO_TEST_CASE(same_seed_same_stream_other_seed_other_stream) {
    gflow::rng a(42), b(42), c(43);
    for (int i = 0; i < 100; ++i) {
        const auto x = a.next();
        BOOST_TEST(x == b.next());
        BOOST_TEST(x != c.next());
    }
}

BOOST_AUTO_TEST_CASE(normal_has_mean_zero_and_unit_variance) {
    gflow::rng gen(7);
    double sum = 0, sum_sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const double x = gen.normal();
        sum += x;
        sum_sq += x * x;
    }
    BOOST_TEST(std::abs(sum / n) < 0.01);
    BOOST_TEST(std::abs(sum_sq / n - 1) < 0.01);
}

BOOST_AUTO_TEST_CASE(shuffle_is_a_seeded_permutation) {
    std::vector<int> a(100), b(100);
    for (int i = 0; i < 100; ++i) a[i] = b[i] = i;
    gflow::rng g1(5), g2(5);
    g1.shuffle(std::span<int>(a));
    g2.shuffle(std::span<int>(b));
    BOOST_TEST(a == b);
    std::vector<int> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 100; ++i) BOOST_TEST(sorted[i] == i);
    int moved = 0;
    for (int i = 0; i < 100; ++i) moved += a[i] != i;
    BOOST_TEST(moved > 80);
}
