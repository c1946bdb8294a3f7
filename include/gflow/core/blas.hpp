// gflow/core/blas.hpp: the products with weight matrices handed to a BLAS (OpenBLAS, Debian's
// libopenblas-dev) where they are large enough to gain by it (docs/products.md: OpenBLAS runs
// these shapes 1.5x to 10x faster than gflow's own loops on one core).
//
// Meson defines GFLOW_BLAS=1 when it finds OpenBLAS (option -Dblas=auto|enabled|disabled); without
// it every product runs on gflow's kernels (kernels.hpp), which also keep the small products (the
// names and parens models, one decoded token), long double (gradient checks) and any other type.
//
// The BLAS runs on one thread per call; gflow spreads the calls over its own threads
// (core/parallel.hpp) in blocks of a fixed size, so that each call, and so each rounding, is the
// same whatever the thread count: the results stay identical bit for bit at any thread count.
#pragma once
#include <string>
#include <type_traits>

#ifndef GFLOW_BLAS
#define GFLOW_BLAS 0
#endif

namespace gflow::blas {

// Whether this build hands products to a BLAS at all.
inline constexpr bool enabled = GFLOW_BLAS != 0;

// The types the BLAS multiplies.
template <class S>
inline constexpr bool supports = enabled && (std::is_same_v<S, float> || std::is_same_v<S, double>);

// A product of rows x Out x In multiply-adds goes to the BLAS from this many on (about 10 µs of
// work: below it the call's fixed cost, packing the operands, exceeds what the BLAS saves; the
// names and parens models, 16 x 16 x 16 = 4,096, stay on gflow's kernels). Tests set it to 0 to
// run every product through the BLAS.
inline long& min_work() {
    static long value = 1L << 16;
    return value;
}
inline bool worth(long rows, long out, long in) { return rows >= 2 && rows * out * in >= min_work(); }

// Rows of x (and of y, dx) in one BLAS call, and output rows (and columns, kernels.hpp's
// blas_backward) of dW in one call: fixed, so that the calls do not depend on the thread count.
// 256 rows is one document at the paper's block.
inline constexpr int row_block = 256;
inline constexpr int weight_row_block = 64, weight_column_block = 64;

// C[M][N] = A' B' + beta C, row-major, A' = A or Aᵀ, B' = B or Bᵀ (cblas_?gemm with alpha = 1).
// One thread per call (src/blas.cpp sets the BLAS's own thread count to 1 on first use).
void gemm(bool transpose_a, bool transpose_b, int M, int N, int K, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);
void gemm(bool transpose_a, bool transpose_b, int M, int N, int K, const double* A, int lda,
          const double* B, int ldb, double beta, double* C, int ldc);

// The BLAS's name and configuration, for benchmark headers.
#if GFLOW_BLAS
const char* description();
#else
inline const char* description() { return "none (gflow's own kernels)"; }
#endif

// Which of OpenBLAS's kernels ("cores") the products run on, for the benchmarks' output
// (docs/products.md, "Which kernels OpenBLAS runs"). OpenBLAS picks them for the CPU when it is
// loaded, unless OPENBLAS_CORETYPE names others. An environment that names older kernels than the
// CPU runs (OPENBLAS_CORETYPE=Haswell on a CPU with AVX-512, as on one machine here) halves the
// speed of the model's products and leaves the roofline's peak, measured with the widest vectors,
// out of reach: the benchmarks say so in their output.
struct core_choice {
    std::string core = "none";      // openblas_get_corename(): "Haswell", "SkylakeX", "Cooperlake", ...
    bool from_environment = false;  // OPENBLAS_CORETYPE is set, to `coretype_variable`
    std::string coretype_variable;
    bool narrower_than_cpu = false; // kernels without AVX-512 on a CPU with it
    // One line: "OpenBLAS core Cooperlake (its own choice for this CPU)", or with the variable and
    // the remedy.
    std::string line() const;
};
#if GFLOW_BLAS
core_choice core();
#else
inline core_choice core() { return {}; }
inline std::string core_choice::line() const { return "no BLAS: gflow's own kernels"; }
#endif

}  // namespace gflow::blas
