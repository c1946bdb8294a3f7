// mixer_kernels: the two mixers' own loops at the Tiny Shakespeare models' sizes, one thread, one
// sequence of 256 positions, forward and backward apart:
//
//   plucker  the Grassmann mixer's fused node, window_mean(unit(plucker(z, shift<δ>(z)))) over
//            δ = 1, 2, 4, 8, 12, 16 (expr/plucker.hpp): r = 16 (width 64) and r = 32 (widths 128
//            and 256), per position
//   head     one head of causal softmax attention (core/causal_attention.hpp): D = 16 (width 64,
//            4 heads) and D = 32 (width 128, 4 heads; width 256, 8 heads), per head
//
// Each figure is the median over repetitions of the thread's CPU time (CLOCK_THREAD_CPUTIME_ID: a
// shared machine slows the kernel, it does not charge it another process's time slice) of enough
// calls for about 5 ms. These are the figures docs/design.md quotes for those loops; a model's step
// runs them on data that is not in cache, so they are the kernels' best case.
//
//   mixer_kernels [--json] [--dtype f32|f64|both] [--repeat N]
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <time.h>

#include <fmt/format.h>

#include <gflow/core/causal_attention.hpp>
#include <gflow/core/simd.hpp>
#include <gflow/expr/plucker.hpp>

namespace {

constexpr int T = 256;   // positions of a sequence (the models' block)
// The sequence's length as the models pass it, a runtime value (a constant here let GCC unroll for
// n = 256 and warn about iterations no call makes).
volatile int sequence_length = T;

struct options {
    bool json = false, f32 = true, f64 = true;
    int repeat = 15;
};

double thread_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// The median over `repeat` samples of the seconds one call of f takes (calls a sample: about 5 ms).
template <class F>
double median_seconds(int repeat, F f) {
    f();
    const double once = [&] {
        const double t0 = thread_seconds();
        f();
        return std::max(1e-7, thread_seconds() - t0);
    }();
    const int calls = std::max(1, int(5e-3 / once));
    std::vector<double> samples;
    for (int r = 0; r < repeat; ++r) {
        const double t0 = thread_seconds();
        for (int c = 0; c < calls; ++c) f();
        samples.push_back((thread_seconds() - t0) / calls);
    }
    std::nth_element(samples.begin(), samples.begin() + repeat / 2, samples.end());
    return samples[repeat / 2];
}

void report(const options& o, const char* kernel, const char* dtype, int size, const char* unit, double forward,
            double backward) {
    if (o.json)
        fmt::print("{{\"kernel\": \"{}\", \"dtype\": \"{}\", \"size\": {}, \"positions\": {}, \"per\": \"{}\", "
                   "\"forward_us\": {:.4f}, \"backward_us\": {:.4f}}}\n",
                   kernel, dtype, size, T, unit, forward * 1e6, backward * 1e6);
    else
        fmt::print("{:<8} {:<5} {:>4} {:<10} {:>12.3f} {:>12.3f}\n", kernel, dtype, size, unit, forward * 1e6,
                   backward * 1e6);
}

template <class S>
void fill(std::vector<S>& v, std::mt19937& gen) {
    std::normal_distribution<double> normal;
    for (auto& x : v) x = S(normal(gen));
}

template <int R, class S>
void plucker(const options& o, const char* dtype) {
    using node = gflow::expr::plucker_window_mean_node<gflow::expr::plucker_norm::smooth, gflow::expr::input<R>, 1, 2,
                                                      4, 8, 12, 16>;
    constexpr int P = node::P;
    std::mt19937 gen(R);
    std::vector<S> z(T * R), dz(T * R), mean(T * P), dmean(T * P), keep(node::template keep<T> + 1),
        scratch(node::template scratch<T> + 1);
    fill(z, gen);
    fill(dmean, gen);
    const gflow::pass p{sequence_length, nullptr, 0};
    const double forward = median_seconds(o.repeat, [&] {
        node::template forward<T, S>(p, nullptr, keep.data(), scratch.data(), mean.data(), {z.data()});
    });
    const double backward = median_seconds(o.repeat, [&] {
        node::template backward<T, S>(p, nullptr, nullptr, keep.data(), scratch.data(), nullptr, dmean.data(),
                                      {z.data()}, {dz.data()});
    });
    report(o, "plucker", dtype, R, "position", forward / T, backward / T);
}

template <int D, int W, class S>
void head(const options& o, const char* dtype) {
    namespace causal = gflow::kernels::causal;
    if constexpr (!causal::head_shape<S, D, T>::available) {
        return;   // (no vector registers for S on this target: attend.hpp's own loops run instead)
    } else {
        std::mt19937 gen(D);
        std::vector<S> q(T * W), k(T * W), v(T * W), d_o(T * W), out(T * W), dq(T * W), dk(T * W), dv(T * W),
            A(T * T), dS(T * T), transposed(D * T);
        for (auto* x : {&q, &k, &v, &d_o}) fill(*x, gen);
        const int n = sequence_length;
        const double forward = median_seconds(o.repeat, [&] {
            causal::forward<D, W, T>(n, q.data(), k.data(), v.data(), A.data(), out.data(), transposed.data());
        });
        const double backward = median_seconds(o.repeat, [&] {
            causal::backward<D, W, T>(n, q.data(), k.data(), v.data(), A.data(), out.data(), d_o.data(), dq.data(),
                                      dk.data(), dv.data(), dS.data(), transposed.data());
        });
        report(o, "head", dtype, D, "head", forward, backward);
    }
}

template <class S>
void all(const options& o, const char* dtype) {
    plucker<16, S>(o, dtype);
    plucker<32, S>(o, dtype);
    head<16, 64, S>(o, dtype);
    head<32, 128, S>(o, dtype);
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if ((a == "--dtype" || a == "--repeat") && i + 1 >= argc) {
            fmt::print(stderr, "mixer_kernels: {} needs a value\n", a);
            return 2;
        }
        if (a == "--json") {
            o.json = true;
        } else if (a == "--dtype" && i + 1 < argc) {
            const std::string_view d = argv[++i];
            if (d != "f32" && d != "f64" && d != "both") {
                fmt::print(stderr, "mixer_kernels: --dtype {}: expected f32, f64 or both\n", d);
                return 2;
            }
            o.f32 = d != "f64";
            o.f64 = d != "f32";
        } else if (a == "--repeat" && i + 1 < argc) {
            const std::string n = argv[++i];
            char* end = nullptr;
            const long value = std::strtol(n.c_str(), &end, 10);
            if (end == n.c_str() || *end != '\0' || value < 1 || value > 1000) {
                fmt::print(stderr, "mixer_kernels: --repeat {}: expected a whole number from 1 to 1000\n", n);
                return 2;
            }
            o.repeat = int(value);
        } else {
            fmt::print(stderr, "mixer_kernels: unknown argument '{}' (usage: mixer_kernels [--json] "
                               "[--dtype f32|f64|both] [--repeat N])\n", a);
            return 2;
        }
    }
    if (!o.json) {
        fmt::print("The mixers' loops, one thread, a sequence of {} positions, median of {} samples of the "
                   "thread's CPU time; vectors of {} bytes\n",
                   T, o.repeat, gflow::simd::register_bytes);
        fmt::print("{:<8} {:<5} {:>4} {:<10} {:>12} {:>12}\n", "kernel", "dtype", "size", "per", "forward µs",
                   "backward µs");
    }
    if (o.f32) all<float>(o, "f32");
    if (o.f64) all<double>(o, "f64");
}
