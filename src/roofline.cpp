// The machine's peak for the roofline line (include/gflow/bench/roofline.hpp): independent chains
// of fused multiply-adds, as many as keep the FMA units busy (a chain waits ~4 cycles for its
// previous result; 2 units need 8 chains in flight), in each vector width the CPU has.
#include <gflow/bench/roofline.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <gflow/core/parallel.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace gflow::bench {
namespace {

template <class S, int Bytes>
using vec [[gnu::vector_size(Bytes)]] = S;

// acc = acc * m + a over `chains` vectors: converges to a / (1 - m), never to a denormal or an
// infinity. Returns a value that depends on every chain, so that nothing is optimised away.
// Counts 2 operations a lane a multiply-add.
#define GFLOW_FMA_LOOP(S, Bytes, Chains)                                                          \
    using V = vec<S, Bytes>;                                                                      \
    V acc[Chains];                                                                                \
    for (int c = 0; c < Chains; ++c)                                                              \
        for (int l = 0; l < int(Bytes / sizeof(S)); ++l) acc[c][l] = S(0.5 + 0.01 * c + 0.001 * l); \
    const V m = V{} + S(0.999), a = V{} + S(0.001);                                               \
    for (long i = 0; i < iterations; ++i) {                                                       \
        _Pragma("GCC unroll 16") for (int c = 0; c < Chains; ++c) acc[c] = acc[c] * m + a;         \
                                                                                                  \
    }                                                                                             \
    S sum = 0;                                                                                    \
    for (int c = 0; c < Chains; ++c)                                                              \
        for (int l = 0; l < int(Bytes / sizeof(S)); ++l) sum += acc[c][l];                        \
    *flops = 2.0 * double(iterations) * Chains * double(Bytes / sizeof(S));                       \
    return double(sum);

// acc * m + a as one multiply-add: GCC is told so per function; clang contracts within an
// expression by default (-ffp-contract=on) and has no optimize attribute.
#if defined(__clang__)
#define GFLOW_CONTRACT
#else
#define GFLOW_CONTRACT [[gnu::optimize("fp-contract=fast")]]
#endif

#if defined(__x86_64__) || defined(__i386__)
template <class S>
[[gnu::target("avx512f,fma"), gnu::noinline]] GFLOW_CONTRACT double loop_avx512(long iterations, double* flops) {
    GFLOW_FMA_LOOP(S, 64, 16)
}
template <class S>
[[gnu::target("avx2,fma"), gnu::noinline]] GFLOW_CONTRACT double loop_avx2(long iterations, double* flops) {
    GFLOW_FMA_LOOP(S, 32, 12)
}
#endif
template <class S>
[[gnu::noinline]] GFLOW_CONTRACT double loop_default(long iterations, double* flops) {
    GFLOW_FMA_LOOP(S, 16, 8)
}

using loop_fn = double (*)(long, double*);

// GFLOP/s of `loop` on `threads` threads at once: each runs `iterations`; the wall time of the
// slowest. Best of 3.
double measure(loop_fn loop, [[maybe_unused]] int threads, long iterations) {   // (threads: OpenMP only)
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        double total_flops = 0, sink = 0;
        const auto t0 = std::chrono::steady_clock::now();
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads) reduction(+ : total_flops, sink)
#endif
        {
            double f = 0;
            sink += loop(iterations, &f);
            total_flops += f;
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (sink == 12345.678) fmt::print(" ");   // keeps `sink` alive
        best = std::max(best, total_flops / seconds * 1e-9);
    }
    return best;
}

template <class S>
double peak(int threads) {
    std::vector<loop_fn> loops{&loop_default<S>};
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) loops.push_back(&loop_avx2<S>);
    if (__builtin_cpu_supports("avx512f")) loops.push_back(&loop_avx512<S>);
#endif
    double best = 0;
    for (loop_fn loop : loops) {
        // Calibrate to about 10 ms a run on one thread.
        double f = 0;
        const auto t0 = std::chrono::steady_clock::now();
        loop(100000, &f);
        const double s = std::max(1e-6, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        const long iterations = std::max(100000L, long(100000 * 0.01 / s));
        best = std::max(best, measure(loop, threads, iterations));
    }
    return best;
}

}  // namespace

double peak_gflops(bool double_precision, int threads) {
    static std::mutex mutex;
    static std::map<std::pair<bool, int>, double> known;
    threads = std::max(1, threads);
    const std::lock_guard lock(mutex);
    const auto key = std::make_pair(double_precision, threads);
    if (auto it = known.find(key); it != known.end()) return it->second;
    const double value = double_precision ? peak<double>(threads) : peak<float>(threads);
    known[key] = value;
    return value;
}

std::string to_string(const roofline& r) {
    const double f = r.flops_per_step;
    const std::string amount = f >= 1e9 ? fmt::format("{:.2f} GFLOP", f * 1e-9)
                               : f >= 1e6 ? fmt::format("{:.2f} MFLOP", f * 1e-6)
                                          : fmt::format("{:.1f} kFLOP", f * 1e-3);
    return fmt::format("{} a step, {:.1f} GFLOP/s = {:.0f} % of the peak {:.1f} GFLOP/s (FMA loop, {} thread{})", amount,
                       r.gflops(), 100 * r.fraction(), r.peak_gflops, r.threads, r.threads == 1 ? "" : "s");
}

}  // namespace gflow::bench
