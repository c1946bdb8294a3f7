// The BLAS calls of include/gflow/core/blas.hpp, compiled only where Meson found OpenBLAS, so
// that cblas.h stays out of the headers a model includes.
#include <gflow/core/blas.hpp>

#include <cstdlib>
#include <string>

#include <cblas.h>
#include <fmt/format.h>

// OpenBLAS's own extensions (declared by its cblas.h; declared again so that a netlib cblas.h
// found beside libopenblas also compiles).
extern "C" {
void openblas_set_num_threads(int num_threads);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace gflow::blas {
namespace {
// gflow calls the BLAS from its own threads, one call a thread: the BLAS's threads would only
// compete with them (and make the rounding depend on their count).
bool single_threaded() {
    static const bool once = [] {
        openblas_set_num_threads(1);
        return true;
    }();
    return once;
}
CBLAS_TRANSPOSE op(bool transpose) { return transpose ? CblasTrans : CblasNoTrans; }
}  // namespace

void gemm(bool transpose_a, bool transpose_b, int M, int N, int K, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
    single_threaded();
    cblas_sgemm(CblasRowMajor, op(transpose_a), op(transpose_b), M, N, K, 1.0f, A, lda, B, ldb, beta,
                C, ldc);
}

void gemm(bool transpose_a, bool transpose_b, int M, int N, int K, const double* A, int lda,
          const double* B, int ldb, double beta, double* C, int ldc) {
    single_threaded();
    cblas_dgemm(CblasRowMajor, op(transpose_a), op(transpose_b), M, N, K, 1.0, A, lda, B, ldb, beta,
                C, ldc);
}

const char* description() { return openblas_get_config(); }

core_choice core() {
    core_choice choice;
    const char* name = openblas_get_corename();
    choice.core = name != nullptr ? name : "unknown";
    if (const char* variable = std::getenv("OPENBLAS_CORETYPE")) {
        choice.from_environment = true;
        choice.coretype_variable = variable;
    }
#if defined(__x86_64__) || defined(__i386__)
    // OpenBLAS's x86 kernels with AVX-512 (its other x86 cores have AVX2 at most).
    const bool wide_core = choice.core == "SkylakeX" || choice.core == "Cooperlake" || choice.core == "SapphireRapids";
    choice.narrower_than_cpu = __builtin_cpu_supports("avx512f") && !wide_core;
#endif
    return choice;
}

std::string core_choice::line() const {
    if (!from_environment) return fmt::format("OpenBLAS core {} (its own choice for this CPU)", core);
    if (narrower_than_cpu)
        return fmt::format("OpenBLAS core {} (OPENBLAS_CORETYPE={}: kernels without the CPU's AVX-512; unset it for "
                           "OpenBLAS's own choice)", core, coretype_variable);
    return fmt::format("OpenBLAS core {} (OPENBLAS_CORETYPE={})", core, coretype_variable);
}

}  // namespace gflow::blas
