// Shared by the term tests: run gflow::testing::check_term and assert the bound of
// docs/benchmarks.md#correctness.
#pragma once
#include <boost/test/unit_test.hpp>

#include <gflow/testing/gradient_check.hpp>

// Every term's gradient, against central finite differences in double: max relative error 1e-6.
#define GFLOW_CHECK_TERM_GRADIENT(TERM, DIMS, IN_WIDTH, SEED)                                        \
    do {                                                                                             \
        const auto report = gflow::testing::check_term<TERM, DIMS, IN_WIDTH>(SEED);                  \
        BOOST_TEST_MESSAGE(#TERM << ": " << report.checked << " components, max relative error "    \
                                 << report.max_relative_error << " (" << report.worst << ")");      \
        BOOST_TEST(report.checked > 0u);                                                             \
        BOOST_TEST(report.max_relative_error <= 1e-6, report.worst);                                 \
    } while (0)
