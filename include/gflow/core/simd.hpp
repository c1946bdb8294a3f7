// gflow/core/simd.hpp: the vector width of the target this translation unit is compiled for.
// The kernels size their vectors from it, so a build for AVX2 uses 32-byte vectors and one for
// AVX-512 64-byte vectors; a vector wider than the target's registers would be split by the
// compiler into several narrower operations and lose most of its speed (measured: a names step
// 3x slower on an AVX2 machine with 64-byte vectors).
//
// Why the compiler's predefined macros and not a SIMD library: the kernels already use GCC and
// Clang vector extensions (any width, portable, no intrinsics), so all they need is one number,
// and the macros below are exactly what `-march=...` sets. libstdc++'s
// `std::experimental::native_simd` would give the same number through a heavier header, and
// xsimd would add a dependency for it.
#pragma once

namespace gflow::simd {

// Bytes in one vector register of the compile target (1: no vector unit known, scalar code).
inline constexpr int register_bytes =
#if defined(__AVX512F__)
    64;
#elif defined(__AVX__)
    32;
#elif defined(__SSE2__) || defined(__ARM_NEON) || defined(__ALTIVEC__) || defined(__riscv_vector)
    16;
#else
    1;
#endif

// The instruction set the code was compiled for, as a benchmark prints it beside its figures.
inline constexpr const char* instruction_set =
#if defined(__AVX512F__)
    "AVX-512 (64-byte vectors)";
#elif defined(__AVX2__) && defined(__FMA__)
    "AVX2+FMA (32-byte vectors)";
#elif defined(__AVX__)
    "AVX (32-byte vectors)";
#elif defined(__SSE4_2__)
    "SSE4.2 (16-byte vectors)";
#elif defined(__SSE2__)
    "SSE2 (16-byte vectors)";
#elif defined(__ARM_NEON)
    "NEON (16-byte vectors)";
#else
    "generic (scalar)";
#endif

// Lanes of S in one register (at least 1).
template <class S>
inline constexpr int register_lanes = register_bytes >= int(sizeof(S)) ? register_bytes / int(sizeof(S)) : 1;

// The widest lane count L <= register_lanes<S> that divides N (a power of two), or 1.
template <class S, int N>
constexpr int lanes_for() {
    int lanes = register_lanes<S>;
    while (lanes > 1 && N % lanes != 0) lanes /= 2;
    return lanes;
}

}  // namespace gflow::simd
