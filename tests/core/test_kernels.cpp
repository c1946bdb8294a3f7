// The products on gflow's own kernels (core/kernels.hpp): y = W x, y += W x and their backward
// dW += dy xᵀ, dx += Wᵀ dy, for the names model's shapes and for awkward ones (widths that no
// vector divides, a single row or column, matrices too large for the transposed copy), in float,
// double and long double (scalar code), on whatever vector width the build targets.
//  - Each result is within the rounding bound of its sum (testing/tolerance.hpp) of the exact
//    value (computed in long double from the same inputs), for 1 to 33 rows (one row: decoding).
//  - With every loop spread over the threads (min_work 0), 2 threads give what 1 thread gives,
//    bit for bit.
// The BLAS is kept out (blas::min_work at its maximum): it has its own tests (tests/model).
// One scalar type a program (GFLOW_TEST_SCALAR, tests/meson.build): the three together took 35 s
// to compile with g++ -O2 in one translation unit.
#ifndef GFLOW_TEST_SCALAR
#error "tests/meson.build compiles this file once for each scalar type: -DGFLOW_TEST_SCALAR=float"
#endif
#define BOOST_TEST_MODULE core_kernels
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/core/kernels.hpp>
#include <gflow/random.hpp>
#include <gflow/testing/tolerance.hpp>

namespace {

template <class S>
std::vector<S> random_values(gflow::rng& gen, std::size_t count) {
    std::vector<S> v(count);
    for (auto& x : v) x = static_cast<S>(2 * gen.uniform() - 1);
    return v;
}

// The rows a product is tried with: one, a few, the names model's typical length, more than a
// block of rows (16), and several blocks with a remainder.
constexpr int row_counts[] = {1, 2, 3, 5, 7, 8, 9, 16, 17, 33};

struct keep_blas_out {
    long saved_blas = gflow::blas::min_work(), saved_parallel = gflow::parallel::min_work();
    int saved_threads = gflow::parallel::threads();
    keep_blas_out() { gflow::blas::min_work() = std::numeric_limits<long>::max(); }
    ~keep_blas_out() {
        gflow::blas::min_work() = saved_blas;
        gflow::parallel::min_work() = saved_parallel;
        gflow::parallel::set_threads(saved_threads);
    }
};

// The bound on |computed - exact| for a result of k roundings in S from terms of total magnitude m
// (plus the reference's own k roundings in long double).
template <class S>
double bound(int k, long double m) {
    return gflow::testing::rounding_error<S>(k, double(m)) + gflow::testing::rounding_error<long double>(k, double(m));
}

template <int Out, int In, class S>
void check_shape() {
    keep_blas_out guard;
    const std::string shape =
        fmt::format("[{}][{}] {}", Out, In, sizeof(S) == 4 ? "float" : sizeof(S) == 8 ? "double" : "long double");
    gflow::rng gen(Out * 1000 + In);
    constexpr int max_rows = 33;
    // the inputs, in S (the exact results below are computed from these values)
    const auto W = random_values<S>(gen, std::size_t(Out) * In), x = random_values<S>(gen, std::size_t(max_rows) * In);
    const auto dy = random_values<S>(gen, std::size_t(max_rows) * Out), y0 = random_values<S>(gen, std::size_t(max_rows) * Out);
    const auto dW0 = random_values<S>(gen, std::size_t(Out) * In), dx0 = random_values<S>(gen, std::size_t(max_rows) * In);

    for (const int n : row_counts) {
        BOOST_TEST_CONTEXT(shape << ", " << n << " rows") {
            // forward, and the accumulating forward
            std::vector<S> y(std::size_t(n) * Out), y_add(y0.begin(), y0.begin() + std::size_t(n) * Out);
            gflow::kernels::matvec_rows<Out, In>(W.data(), x.data(), y.data(), n);
            gflow::kernels::matvec_rows_add<Out, In>(W.data(), x.data(), y_add.data(), n);
            for (int t = 0; t < n; ++t)
                for (int o = 0; o < Out; ++o) {
                    long double exact = 0, magnitude = 0;
                    for (int i = 0; i < In; ++i) {
                        const long double term = static_cast<long double>(W[o * In + i]) * x[t * In + i];
                        exact += term;
                        magnitude += std::abs(term);
                    }
                    // In products and In - 1 additions in any order (In roundings with fused
                    // multiply-adds or without), then the addition to y0
                    const long double y_start = y0[t * Out + o];
                    BOOST_TEST(std::abs(y[t * Out + o] - exact) <= bound<S>(In, magnitude));
                    BOOST_TEST(std::abs(y_add[t * Out + o] - (y_start + exact)) <= bound<S>(In + 1, magnitude + std::abs(y_start)));
                }
            // backward, accumulating into gradients that hold values already
            std::vector<S> dW(dW0), dx(dx0.begin(), dx0.begin() + std::size_t(n) * In), dW_only(dW0);
            gflow::kernels::matvec_rows_backward<Out, In>(W.data(), dW.data(), x.data(), dy.data(), dx.data(), n);
            gflow::kernels::matvec_rows_backward<Out, In, false>(W.data(), dW_only.data(), x.data(), dy.data(),
                                                                 static_cast<S*>(nullptr), n);
            for (int o = 0; o < Out; ++o)
                for (int i = 0; i < In; ++i) {
                    long double exact = dW0[o * In + i], magnitude = std::abs(exact);
                    for (int t = 0; t < n; ++t) {
                        const long double term = static_cast<long double>(dy[t * Out + o]) * x[t * In + i];
                        exact += term;
                        magnitude += std::abs(term);
                    }
                    BOOST_TEST(std::abs(dW[o * In + i] - exact) <= bound<S>(n + 1, magnitude));
                    BOOST_TEST(dW_only[o * In + i] == dW[o * In + i]);
                }
            for (int t = 0; t < n; ++t)
                for (int i = 0; i < In; ++i) {
                    long double exact = dx0[t * In + i], magnitude = std::abs(exact);
                    for (int o = 0; o < Out; ++o) {
                        const long double term = static_cast<long double>(dy[t * Out + o]) * W[o * In + i];
                        exact += term;
                        magnitude += std::abs(term);
                    }
                    BOOST_TEST(std::abs(dx[t * In + i] - exact) <= bound<S>(Out + 1, magnitude));
                }
            // every loop on the threads: 2 threads give what 1 gives
            gflow::parallel::min_work() = 0;
            std::vector<S> by_thread[2][3];
            for (int threads = 1; threads <= 2; ++threads) {
                gflow::parallel::set_threads(threads);
                auto& r = by_thread[threads - 1];
                r[0].assign(std::size_t(n) * Out, S(0));
                r[1] = dW0;
                r[2].assign(dx0.begin(), dx0.begin() + std::size_t(n) * In);
                gflow::kernels::matvec_rows<Out, In>(W.data(), x.data(), r[0].data(), n);
                gflow::kernels::matvec_rows_backward<Out, In>(W.data(), r[1].data(), x.data(), dy.data(), r[2].data(), n);
            }
            gflow::parallel::min_work() = guard.saved_parallel;
            gflow::parallel::set_threads(guard.saved_threads);
            for (int k = 0; k < 3; ++k) BOOST_TEST((by_thread[0][k] == by_thread[1][k]));
            BOOST_TEST((by_thread[0][0] == y));
            BOOST_TEST((by_thread[0][1] == dW));
            BOOST_TEST((by_thread[0][2] == dx));
        }
    }
}

template <class S>
void check_all_shapes() {
    // the names model's products
    check_shape<4, 16, S>();
    check_shape<16, 6, S>();
    check_shape<16, 16, S>();
    check_shape<64, 16, S>();
    check_shape<16, 64, S>();
    check_shape<27, 16, S>();
    // one row or column, widths no vector divides, odd and prime sizes
    check_shape<1, 1, S>();
    check_shape<1, 16, S>();
    check_shape<16, 1, S>();
    check_shape<3, 5, S>();
    check_shape<5, 3, S>();
    check_shape<33, 7, S>();
    check_shape<2, 8, S>();
    check_shape<17, 32, S>();
    check_shape<40, 24, S>();
    check_shape<12, 128, S>();
    // sums split in partial sums (48 and 60: the split must still be a power of two)
    check_shape<48, 48, S>();
    check_shape<20, 60, S>();
    check_shape<60, 20, S>();
    // too large for the transposed copy on the stack: the dot products
    check_shape<128, 64, S>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(products) { check_all_shapes<GFLOW_TEST_SCALAR>(); }

BOOST_AUTO_TEST_CASE(the_shapes_of_the_names_model_take_the_transposed_path) {
    // where the target has vectors: the names model's products run on the transposed weights
    if constexpr (gflow::simd::register_lanes<float> > 1 && GFLOW_HAS_SHUFFLEVECTOR) {
        BOOST_TEST((gflow::kernels::detail::small_shape<float, 64, 16>::transposed));
        BOOST_TEST((gflow::kernels::detail::small_shape<double, 16, 64>::transposed));
        BOOST_TEST((gflow::kernels::detail::small_shape<float, 27, 16>::transposed));
    }
    BOOST_TEST((!gflow::kernels::detail::small_shape<long double, 16, 16>::transposed));
}

#if GFLOW_HAS_SHUFFLEVECTOR
// row_sums (the Plücker backward's U v, expr/plucker.hpp): out[j] is row j's sum, for every power
// of two of lanes up to 16. Small integers: every sum exact, whatever the order.
template <class S, int L>
void check_row_sums() {
    using V = gflow::kernels::lanes<S, L>;
    V rows[L], out;
    S expected[L] = {};
    for (int i = 0; i < L; ++i)
        for (int j = 0; j < L; ++j) {
            rows[i][j] = S((i * 7 + j * 3) % 11 - 5 + (j == 0 ? 100 * i : 0));
            expected[i] += rows[i][j];
        }
    gflow::kernels::detail::row_sums(rows, out);
    for (int i = 0; i < L; ++i) {
        const S sum = out[i];   // (Boost.Test takes its operands by reference: not a vector's lane)
        BOOST_TEST(sum == expected[i], "L = " << L << ", row " << i);
    }
}

BOOST_AUTO_TEST_CASE(row_sums_in_registers) {
    if constexpr (std::is_same_v<GFLOW_TEST_SCALAR, float> || std::is_same_v<GFLOW_TEST_SCALAR, double>) {
        check_row_sums<GFLOW_TEST_SCALAR, 2>();
        check_row_sums<GFLOW_TEST_SCALAR, 4>();
        check_row_sums<GFLOW_TEST_SCALAR, 8>();
        check_row_sums<GFLOW_TEST_SCALAR, 16>();
    }
}
#endif
