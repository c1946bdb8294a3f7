// gflow/bench/roofline.hpp: the roofline line of every benchmark: the floating-point operations
// of a training step (counted from the model's type, core/term.hpp's flop_count) over its time,
// against the machine's peak, measured by a loop of fused multiply-adds once the timed steps are
// done (so that neither disturbs the other; about 0.1 s).
#pragma once
#include <string>

namespace gflow::bench {

// The machine's peak in GFLOP/s for f32 or f64 (`double_precision`) on `threads` threads: the
// best of a loop of independent fused multiply-adds in each vector width the CPU runs (AVX-512,
// AVX2 + FMA, SSE2 on x86; the compiler's default elsewhere), the best of 3 runs of about 10 ms.
// Measured once per (precision, threads) and remembered.
double peak_gflops(bool double_precision, int threads);

struct roofline {
    double flops_per_step = 0;    // forward + backward, counted from the model's type
    double seconds_per_step = 0;
    double peak_gflops = 0;       // peak_gflops() for the run's precision and threads
    int threads = 1;
    double gflops() const { return seconds_per_step > 0 ? flops_per_step / seconds_per_step * 1e-9 : 0; }
    double fraction() const { return peak_gflops > 0 ? gflops() / peak_gflops : 0; }
};

// "0.61 MFLOP a step, 74.3 GFLOP/s = 39 % of the peak 190.2 GFLOP/s (FMA loop, 2 threads)"
std::string to_string(const roofline& r);

}  // namespace gflow::bench
