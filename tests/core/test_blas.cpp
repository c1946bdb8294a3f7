// gflow::blas::core (core/blas.hpp): which of OpenBLAS's kernels this process runs, who chose
// them, and the line the benchmarks print about them.
#define BOOST_TEST_MODULE core_blas
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>
#include <strings.h>

#include <gflow/core/blas.hpp>

namespace {
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
}  // namespace

#if GFLOW_BLAS
// Runs once as the environment comes and once with OPENBLAS_CORETYPE=Haswell (tests/meson.build).
BOOST_AUTO_TEST_CASE(the_core_in_use_and_who_chose_it) {
    const char* environment = std::getenv("OPENBLAS_CORETYPE");
    const auto choice = gflow::blas::core();
    const std::string line = choice.line();
    BOOST_TEST_MESSAGE(line);
    BOOST_TEST(!choice.core.empty());
    BOOST_TEST(contains(line, choice.core.c_str()));
    BOOST_TEST(choice.from_environment == (environment != nullptr));
    if (environment != nullptr) BOOST_TEST(choice.coretype_variable == environment);
    if (std::getenv("GFLOW_TEST_CORETYPE_FROM_ENVIRONMENT") != nullptr) {
        BOOST_REQUIRE(environment != nullptr);
        BOOST_TEST(::strcasecmp(choice.core.c_str(), environment) == 0, choice.core << " against " << environment);
        BOOST_TEST(contains(line, "OPENBLAS_CORETYPE="));
#if defined(__x86_64__)
        // Haswell's kernels have AVX2 at most: narrower exactly where the CPU has AVX-512.
        BOOST_TEST(choice.narrower_than_cpu == bool(__builtin_cpu_supports("avx512f")));
        BOOST_TEST(contains(line, "unset it") == choice.narrower_than_cpu);
#endif
    }
    if (environment == nullptr) BOOST_TEST(contains(line, "its own choice"));
}
#else
BOOST_AUTO_TEST_CASE(without_a_blas_the_line_says_so) {
    BOOST_TEST(gflow::blas::core().line() == "no BLAS: gflow's own kernels");
}
#endif
