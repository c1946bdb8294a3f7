// The parenthesis benchmark's data (benchmark 2, docs/benchmarks.md#parens): the random walk and
// the validity check.
#define BOOST_TEST_MODULE examples_parens_data
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

#include "parens_data.hpp"

BOOST_AUTO_TEST_CASE(the_walk_gives_balanced_strings_of_10_to_25_pairs) {
    const auto strings = parens::generate(10'000, 42);
    BOOST_TEST_REQUIRE(strings.size() == 10'000u);
    std::set<std::size_t> lengths;
    double total = 0;
    for (const auto& s : strings) {
        BOOST_TEST_REQUIRE(parens::valid(s), s);
        BOOST_TEST(s.size() % 2 == 0u);
        BOOST_TEST(s.size() >= 20u);
        BOOST_TEST(s.size() <= 50u);
        lengths.insert(s.size());
        total += double(s.size());
    }
    BOOST_TEST(lengths.size() == 16u);   // every pair count 10..25 occurs
    BOOST_TEST(total / 10'000 > 34.0);   // benchmarks.md#parens: mean length about 35 (uniform pairs: 35.0)
    BOOST_TEST(total / 10'000 < 36.0);
}

BOOST_AUTO_TEST_CASE(the_walk_follows_spec_rules) {
    // an open is allowed only while remaining - depth > depth: the depth never exceeds half of
    // what is left, so the string can always close
    for (const auto& s : parens::generate(2'000, 7)) {
        int depth = 0;
        const int n = int(s.size());
        for (int i = 0; i < n; ++i) {
            const int remaining = n - i;
            if (s[std::size_t(i)] == '(') {
                BOOST_TEST_REQUIRE(remaining - depth > depth);
                ++depth;
            } else {
                BOOST_TEST_REQUIRE(depth > 0);
                --depth;
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_walk_is_seeded) {
    BOOST_TEST(parens::generate(100, 3) == parens::generate(100, 3));
    BOOST_TEST(parens::generate(100, 3) != parens::generate(100, 4));
    // not a fixed pattern: both choices occur where both are allowed
    const auto strings = parens::generate(100, 3);
    BOOST_TEST(std::set<std::string>(strings.begin(), strings.end()).size() > 90u);
}

BOOST_AUTO_TEST_CASE(valid_means_non_empty_and_balanced) {
    BOOST_TEST(parens::valid("()"));
    BOOST_TEST(parens::valid("(()())()"));
    BOOST_TEST(!parens::valid(""));
    BOOST_TEST(!parens::valid("("));
    BOOST_TEST(!parens::valid(")("));       // balanced in count, but closes before it opens
    BOOST_TEST(!parens::valid("(()"));
    BOOST_TEST(!parens::valid("())"));
    BOOST_TEST(!parens::valid("(x)"));
}

BOOST_AUTO_TEST_CASE(the_vocabulary_is_fixed) {
    const auto v = parens::vocabulary();
    BOOST_TEST(v.size() == 2);
    BOOST_TEST(v.token_of(U'(') == 0);
    BOOST_TEST(v.token_of(U')') == 1);
    BOOST_TEST(v.bos() == 2);
}
