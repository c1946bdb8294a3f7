// products: gflow's product kernels against OpenBLAS on the product shapes of the models of the
// paper's size (docs/products.md). For every weight matrix W [Out][In] of the Tiny Shakespeare
// models (widths 64, 128, 256; Grassmann mixer and attention; FFN 4d; lm_head of 65) and the
// three products a training step makes with it on n = B·T rows,
//
//   fwd    y  = x W^T        M = n,   N = Out, K = In     gflow: matvec_rows<Out, In>
//   dx     dx += dy W        M = n,   N = In,  K = Out    gflow: (inside the fused backward)
//   dW     dW += dy^T x      M = Out, N = In,  K = n      gflow: matvec_rows_backward<Out, In, false>
//   dx+dW  both, as the terms call the backward           gflow: matvec_rows_backward<Out, In>
//
// it times gflow's kernel (one thread, called exactly as the terms call it) and cblas_?gemm on the
// same operands (OpenBLAS with openblas_set_num_threads(1), then with 2 threads), f32 and f64,
// the median of several repetitions chosen by a time budget, and prints GFLOP/s and the ratio.
// The single-threaded figures are the thread's CPU time, so that a machine shared with other
// processes slows both sides alike instead of whichever call the scheduler happens to interrupt.
// Before timing it checks that both compute the product: every checked element of either result
// is within gamma_K · Σ|a||b| of a long double reference (gamma_K = K u / (1 - K u), u = eps/2,
// K the terms summed including the accumulated initial value), all elements with --check, a
// sample of each output otherwise. Exits 1 if a check fails.
//
//   products [--check] [--json] [--rows N] [--budget SECONDS] [--dtype f32|f64|both]
//            [--threads N] [--widths 64,128,256]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <time.h>

#include <cblas.h>
#include <fmt/format.h>

#include <gflow/core/blas.hpp>
#include <gflow/core/kernels.hpp>
#include <gflow/core/parallel.hpp>
#include <gflow/core/simd.hpp>

// OpenBLAS's extensions (declared by its cblas.h; declared here too so that a netlib cblas.h
// found beside libopenblas also compiles).
extern "C" {
void openblas_set_num_threads(int num_threads);
char* openblas_get_config(void);
}

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
    bool check = false;
    bool json = false;
    int rows = -1;             // n = B·T; default 2048 (8 x 256), 64 with --check
    double budget = 60;        // seconds of timing in all (wall clock)
    bool f32 = true, f64 = true;
    int threads = 2;           // the BLAS's second thread count
    std::vector<int> widths{64, 128, 256};
};

// Buffers aligned like gflow's (64 bytes), filled with uniform values in [-1, 1].
template <class S>
struct buffer {
    struct free_deleter { void operator()(S* p) const { std::free(p); } };
    std::unique_ptr<S, free_deleter> data;
    std::size_t size = 0;
    explicit buffer(std::size_t n) : size(n) {
        const std::size_t bytes = (n * sizeof(S) + 63) / 64 * 64;
        data.reset(static_cast<S*>(std::aligned_alloc(64, bytes)));
        if (!data) throw std::bad_alloc();
    }
    S* get() const { return data.get(); }
    void fill(std::mt19937_64& gen) {
        std::uniform_real_distribution<double> u(-1, 1);
        for (std::size_t i = 0; i < size; ++i) data.get()[i] = S(u(gen));
    }
    void copy_from(const buffer& o) { std::memcpy(get(), o.get(), size * sizeof(S)); }
};

inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, const double* A, int lda,
                 const double* B, int ldb, double beta, double* C, int ldc) {
    cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, A, lda, B, ldb, beta, C, ldc);
}

double median(std::vector<double> v) {
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// ---------------------------------------------------------------------------------------------
// The shapes.

struct matrix_info {
    int width;            // the model's d
    const char* name;     // which weight(s)
    int out, in;          // W [Out][In]
    int grassmann_count;  // how many per layer (lm_head: per model) in the Grassmann model
    int attention_count;  // ... in the attention model
    bool per_model;       // lm_head: once per model, not per layer
};

constexpr int layers = 6;

enum pass_kind { fwd, dx, dw, bwd, pass_count };
constexpr const char* pass_name[] = {"fwd", "dx", "dW", "dx+dW"};

// What one row of the table holds.
struct row {
    matrix_info m;
    const char* dtype;
    int n;
    pass_kind pass;
    // Median seconds per call: one thread (gflow::parallel::set_threads(1), openblas_set_num_threads(1))
    // and --threads N (both libraries' threads).
    double t_gflow1 = NAN, t_blas1 = NAN, t_gflowN = NAN, t_blasN = NAN;
    int reps1 = 0, repsN = 0;
    double flops() const {
        const double mnk = double(n) * m.out * m.in;
        return pass == bwd ? 4 * mnk : 2 * mnk;
    }
    // M x N x K of the product (for dx+dW: dx's; dW's is Out x In x n).
    std::string shape() const {
        switch (pass) {
            case fwd: return fmt::format("{}x{}x{}", n, m.out, m.in);
            case dx:
            case bwd: return fmt::format("{}x{}x{}", n, m.in, m.out);
            case dw: return fmt::format("{}x{}x{}", m.out, m.in, n);
            default: return "";
        }
    }
};

// ---------------------------------------------------------------------------------------------
// The check: element (i, j) of C = beta C0 + A B against a long double reference.

struct check_stats {
    bool ok = true;
    double worst = 0;   // max |diff| / bound over the checked elements
    long checked = 0;
    std::string first_failure;
};

// C[i][j] = c0[i][j] (if c0) + Σ_k a(i, k) b(k, j); a and b are accessors.
template <class S, class A, class B>
void check_elements(check_stats& st, const char* what, const S* C, const S* c0, int M, int N, int K,
                    A a, B b, bool all, std::mt19937_64& gen) {
    constexpr long double u = std::numeric_limits<S>::epsilon() / 2.0L;
    const int terms = K + (c0 ? 1 : 0);
    const long double gamma = terms * u / (1 - terms * u);
    const long double ref_err = terms * std::numeric_limits<long double>::epsilon();
    auto one = [&](int i, int j) {
        long double ref = c0 ? (long double)c0[i * N + j] : 0.0L;
        long double mag = c0 ? std::fabs((long double)c0[i * N + j]) : 0.0L;
        for (int k = 0; k < K; ++k) {
            const long double p = (long double)a(i, k) * (long double)b(k, j);
            ref += p;
            mag += std::fabs(p);
        }
        const long double diff = std::fabs((long double)C[i * N + j] - ref);
        const long double bound = (gamma + ref_err) * mag;
        const double r = bound > 0 ? double(diff / bound) : (diff > 0 ? INFINITY : 0.0);
        st.worst = std::max(st.worst, r);
        ++st.checked;
        if (!(diff <= bound)) {
            if (st.ok)
                st.first_failure = fmt::format("{}: element ({}, {}) = {} but the reference is {} (|diff| {:.3g} > bound {:.3g})",
                                               what, i, j, double(C[i * N + j]), double(ref), double(diff), double(bound));
            st.ok = false;
        }
    };
    if (all) {
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) one(i, j);
    } else {
        one(0, 0);
        one(M - 1, N - 1);
        std::uniform_int_distribution<int> ri(0, M - 1), rj(0, N - 1);
        for (int s = 0; s < 1000; ++s) one(ri(gen), rj(gen));
    }
}

// ---------------------------------------------------------------------------------------------
// One weight matrix, one scalar type: the check, then the timing of its passes.

struct context {
    options opt;
    std::vector<row> rows;
    check_stats check;
    std::mt19937_64 gen{20251219};
    double budget_per_group_1 = 0, budget_per_group_N = 0;
};

template <int Out, int In, class S>
struct group {
    int n;
    buffer<S> W{std::size_t(Out) * In}, x, dy, y, dW0, dx0, dW, dx;
    group(int n_, std::mt19937_64& gen)
        : n(n_), x(std::size_t(n_) * In), dy(std::size_t(n_) * Out), y(std::size_t(n_) * Out),
          dW0(std::size_t(Out) * In), dx0(std::size_t(n_) * In), dW(std::size_t(Out) * In),
          dx(std::size_t(n_) * In) {
        W.fill(gen); x.fill(gen); dy.fill(gen); dW0.fill(gen); dx0.fill(gen);
        y.fill(gen); dW.copy_from(dW0); dx.copy_from(dx0);
    }
    // The kernels, exactly as the terms call them (terms/linear.hpp, attention.hpp, grassmann.hpp).
    void gflow_fwd() { gflow::kernels::matvec_rows<Out, In>(W.get(), x.get(), y.get(), n); }
    void gflow_dw() { gflow::kernels::matvec_rows_backward<Out, In, false>(W.get(), dW.get(), x.get(), dy.get(), static_cast<S*>(nullptr), n); }
    void gflow_bwd() { gflow::kernels::matvec_rows_backward<Out, In>(W.get(), dW.get(), x.get(), dy.get(), dx.get(), n); }
    // The same products as row-major GEMMs.
    void blas_fwd() { gemm(CblasNoTrans, CblasTrans, n, Out, In, x.get(), In, W.get(), In, S(0), y.get(), Out); }
    void blas_dx() { gemm(CblasNoTrans, CblasNoTrans, n, In, Out, dy.get(), Out, W.get(), In, S(1), dx.get(), In); }
    void blas_dw() { gemm(CblasTrans, CblasNoTrans, Out, In, n, dy.get(), Out, x.get(), In, S(1), dW.get(), In); }
    void reset() { dW.copy_from(dW0); dx.copy_from(dx0); }

    void run_checks(context& c, const matrix_info& m, const char* dtype, int threads) {
        const bool all = c.opt.check;
        const S* Wp = W.get(); const S* xp = x.get(); const S* dyp = dy.get();
        auto label = [&](const char* who, const char* what) {
            return fmt::format("{} {} d={} {} [{}][{}] {}", who, dtype, m.width, m.name, Out, In, what);
        };
        auto W_T = [&](int k, int j) { return Wp[j * In + k]; };        // (W^T)[k][j]
        auto X = [&](int i, int k) { return xp[i * In + k]; };
        auto DY = [&](int i, int k) { return dyp[i * Out + k]; };
        auto Wm = [&](int k, int j) { return Wp[k * In + j]; };
        auto DY_T = [&](int i, int k) { return dyp[k * Out + i]; };      // (dy^T)[i][k]
        auto Xk = [&](int k, int j) { return xp[k * In + j]; };
        auto fwd_check = [&](const char* who) {
            check_elements<S>(c.check, label(who, "fwd").c_str(), y.get(), nullptr, n, Out, In, X, W_T, all, c.gen);
        };
        auto dx_check = [&](const char* who) {
            check_elements<S>(c.check, label(who, "dx").c_str(), dx.get(), dx0.get(), n, In, Out, DY, Wm, all, c.gen);
        };
        auto dw_check = [&](const char* who) {
            check_elements<S>(c.check, label(who, "dW").c_str(), dW.get(), dW0.get(), Out, In, n, DY_T, Xk, all, c.gen);
        };
        // With several threads gflow's backward takes another path (dx by rows, dW by columns).
        const std::string gw = fmt::format("gflow {}t", threads), bw = fmt::format("BLAS {}t", threads);
        reset(); gflow_fwd(); fwd_check(gw.c_str());
        gflow_dw(); dw_check((gw + " (dW only)").c_str());
        reset(); gflow_bwd(); dw_check(gw.c_str()); dx_check(gw.c_str());
        reset(); blas_fwd(); fwd_check(bw.c_str());
        blas_dx(); blas_dw(); dx_check(bw.c_str()); dw_check(bw.c_str());
        reset();
    }
};

// The timing of a set of kernels: each sample runs a kernel `inner` times (enough for about
// 0.2 ms, so that the clock's cost does not count) and divides; the figure is the median of the
// samples. One thread: the kernels are interleaved, a round takes one sample of every kernel in a
// fresh random order (a machine shared with other processes deschedules this one periodically,
// which must not fall on the same kernel round after round), and the clock is the thread's CPU
// time (CLOCK_THREAD_CPUTIME_ID), which leaves out the time the thread waited for a core. Several
// threads: wall-clock time, and each kernel's samples in one block, since both libraries' idle
// threads spin for a while after a call and would slow the other's.
struct timed_kernel {
    std::function<void()> call;
    std::vector<double> samples;
    int inner = 1;
};

void time_kernels(std::vector<timed_kernel>& ks, double budget, bool one_thread, bool check, std::mt19937_64& gen) {
    auto wall_now = [] { return std::chrono::duration<double>(clock_type::now().time_since_epoch()).count(); };
    auto clock_now = [&] {
        if (!one_thread) return wall_now();
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
    };
    auto sample = [&](timed_kernel& k) {
        const double t0 = clock_now();
        for (int i = 0; i < k.inner; ++i) k.call();
        return (clock_now() - t0) / k.inner;
    };
    std::size_t reps = 1;
    if (!check) {
        // The first call of each kernel is its estimate (and, when one call is a whole sample, the
        // first sample). The number of rounds comes from the budget in wall-clock time, so that a
        // loaded machine makes the run less precise rather than longer.
        double round = 0;
        for (auto& k : ks) {
            const double w0 = wall_now();
            const double est = std::max(sample(k), 1e-8);
            k.inner = std::clamp(int(std::ceil(2e-4 / est)), 1, 100000);
            round += k.inner * std::max(wall_now() - w0, est);
            if (k.inner == 1) k.samples.push_back(est);
        }
        // At least 3 rounds on one thread; with several threads a loaded machine can make one
        // call take a second, so there the budget wins.
        reps = std::size_t(std::clamp(int(budget / round), one_thread ? 3 : 1, 200));
    }
    if (!one_thread) {
        for (auto& k : ks)
            while (k.samples.size() < reps) k.samples.push_back(sample(k));
        return;
    }
    std::vector<std::size_t> order(ks.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t rep = 0; rep < reps; ++rep) {
        std::shuffle(order.begin(), order.end(), gen);
        for (std::size_t i : order)
            if (ks[i].samples.size() < reps) ks[i].samples.push_back(sample(ks[i]));
    }
}

template <int Out, int In, class S>
void measure(context& c, const matrix_info& m, const char* dtype, int phase_threads, std::size_t first_row) {
    group<Out, In, S> g(c.opt.rows, c.gen);
    // The several-thread paths are checked with --check (the test); a full run checks one thread.
    if (phase_threads == 1 || c.opt.check) g.run_checks(c, m, dtype, phase_threads);
    row* r = &c.rows[first_row];   // fwd, dx, dW, dx+dW of this matrix and type
    std::vector<timed_kernel> ks{{[&] { g.gflow_fwd(); }, {}}, {[&] { g.gflow_dw(); }, {}},
                                 {[&] { g.gflow_bwd(); }, {}}, {[&] { g.blas_fwd(); }, {}},
                                 {[&] { g.blas_dx(); }, {}},   {[&] { g.blas_dw(); }, {}}};
    const bool one = phase_threads == 1;
    time_kernels(ks, one ? c.budget_per_group_1 : c.budget_per_group_N, one, c.opt.check, c.gen);
    auto med = [&](int k) { return median(ks[k].samples); };
    double row::*gflow = one ? &row::t_gflow1 : &row::t_gflowN;
    double row::*blas = one ? &row::t_blas1 : &row::t_blasN;
    r[fwd].*gflow = med(0);
    r[dw].*gflow = med(1);
    r[bwd].*gflow = med(2);
    r[fwd].*blas = med(3);
    r[dx].*blas = med(4);
    r[dw].*blas = med(5);
    // The BLAS's backward is two calls: the median of dx's time plus the median of dW's.
    r[bwd].*blas = med(4) + med(5);
    for (int p = 0; p < pass_count; ++p) (one ? r[p].reps1 : r[p].repsN) = int(ks[0].samples.size());
}

// Every (matrix, type) of the chosen widths: a function per width, since the sizes are static.
using measure_fn = void (*)(context&, const matrix_info&, const char*, int, std::size_t);

struct entry {
    matrix_info m;
    measure_fn f32, f64;
};

template <int Out, int In>
entry make(int width, const char* name, int grassmann_count, int attention_count, bool per_model = false) {
    return {{width, name, Out, In, grassmann_count, attention_count, per_model},
            &measure<Out, In, float>, &measure<Out, In, double>};
}

// d, r (Plücker coordinates P = r(r-1)/2), lm_head 65 x d. Per layer: the Grassmann mixer has
// W_red [r][d], W_plu [d][P], W_gate_h and W_gate_g [d][d]; attention has Wq, Wk, Wv, Wo [d][d];
// both have the FFN's mlp_fc1 [4d][d] and mlp_fc2 [d][4d].
template <int D, int R>
void add_width(std::vector<entry>& v) {
    constexpr int P = R * (R - 1) / 2;
    v.push_back(make<R, D>(D, "W_red", 1, 0));
    v.push_back(make<D, P>(D, "W_plu", 1, 0));
    v.push_back(make<D, D>(D, "[d][d] gates, Wq/k/v/o", 2, 4));
    v.push_back(make<4 * D, D>(D, "mlp_fc1", 1, 1));
    v.push_back(make<D, 4 * D>(D, "mlp_fc2", 1, 1));
    v.push_back(make<65, D>(D, "lm_head", 1, 1, true));
}

std::vector<entry> all_entries(const options& opt) {
    std::vector<entry> v;
    for (int w : opt.widths) {
        if (w == 64) add_width<64, 16>(v);
        else if (w == 128) add_width<128, 32>(v);
        else if (w == 256) add_width<256, 32>(v);
        else throw std::invalid_argument(fmt::format("--widths: {} is not one of 64, 128, 256", w));
    }
    return v;
}

// ---------------------------------------------------------------------------------------------
// Reporting.

std::string cpu_name() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto p = line.find(':');
            return p == std::string::npos ? line : line.substr(p + 2);
        }
    return "unknown";
}

double load_average() {
    double l[1] = {NAN};
    return getloadavg(l, 1) == 1 ? l[0] : NAN;
}

double gflops(const row& r, double t) { return r.flops() / t * 1e-9; }

std::string num(double v, int prec = 1) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, prec) : "-"; }

void print_table(const context& c) {
    const std::string n = fmt::format("{}t", c.opt.threads);
    constexpr const char* line = "{:<5} {:<4} {:<36} {:<6} {:>14} {:>7} {:>7} {:>6} {:>7} {:>7} {:>6}\n";
    fmt::print(line, "dtype", "d", "matrix [Out][In]", "pass", "M x N x K", "gflow", "BLAS", "ratio", "gflow", "BLAS", "ratio");
    fmt::print(line, "", "", "", "", "", "1t", "1t", "1t", n, n, n);
    const char* last_dtype = "";
    int last_width = 0;
    for (const row& r : c.rows) {
        if (std::strcmp(r.dtype, last_dtype) != 0 || r.m.width != last_width) fmt::print("\n");
        last_dtype = r.dtype;
        last_width = r.m.width;
        const double g1 = gflops(r, r.t_gflow1), b1 = gflops(r, r.t_blas1);
        const double gn = gflops(r, r.t_gflowN), bn = gflops(r, r.t_blasN);
        const std::string mat = fmt::format("{} [{}][{}]", r.m.name, r.m.out, r.m.in);
        fmt::print(line, r.dtype, r.m.width, r.pass == fwd ? mat : "", pass_name[r.pass], r.shape(), num(g1), num(b1),
                   num(g1 / b1, 2), num(gn), num(bn), num(gn / bn, 2));
    }
}

// The products of one training step (n rows, 6 layers, forward and backward of every weight).
struct step_time { double gflow1 = 0, blas1 = 0, gflowN = 0, blasN = 0; };

step_time step(const context& c, const char* dtype, int width, bool grassmann) {
    step_time s;
    for (const row& r : c.rows) {
        if (std::strcmp(r.dtype, dtype) != 0 || r.m.width != width) continue;
        if (r.pass != fwd && r.pass != bwd) continue;
        const int count = (grassmann ? r.m.grassmann_count : r.m.attention_count) * (r.m.per_model ? 1 : layers);
        s.gflow1 += count * r.t_gflow1;
        s.blas1 += count * r.t_blas1;
        s.gflowN += count * r.t_gflowN;
        s.blasN += count * r.t_blasN;
    }
    return s;
}

bool dtype_on(const options& o, const char* dt) { return dt[1] == '3' ? o.f32 : o.f64; }

void print_steps(const context& c) {
    fmt::print("\nThe products of one training step (n = {} rows, {} layers, fwd and dx+dW of every weight), ms:\n",
               c.opt.rows, layers);
    const std::string n = fmt::format("{}t", c.opt.threads);
    constexpr const char* line = "{:<5} {:<4} {:<10} {:>9} {:>9} {:>9} {:>9}\n";
    fmt::print(line, "dtype", "d", "model", "gflow 1t", "BLAS 1t", "gflow " + n, "BLAS " + n);
    for (const char* dt : {"f32", "f64"})
        for (int w : c.opt.widths)
            for (bool gr : {true, false}) {
                if (!dtype_on(c.opt, dt)) continue;
                const step_time s = step(c, dt, w, gr);
                fmt::print(line, dt, w, gr ? "grassmann" : "attention", num(s.gflow1 * 1e3, 2), num(s.blas1 * 1e3, 2),
                           num(s.gflowN * 1e3, 2), num(s.blasN * 1e3, 2));
            }
}

std::string json_num(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "null"; }

void print_json(const context& c) {
    const int n = c.opt.threads;
    for (const row& r : c.rows) {
        const double g1 = gflops(r, r.t_gflow1), b1 = gflops(r, r.t_blas1);
        const double gn = gflops(r, r.t_gflowN), bn = gflops(r, r.t_blasN);
        fmt::print(
            "{{\"kind\":\"product\",\"dtype\":\"{}\",\"width\":{},\"matrix\":\"{}\",\"out\":{},\"in\":{},\"pass\":\"{}\","
            "\"shape\":\"{}\",\"rows\":{},\"flops\":{:.0f},\"gflops_gflow_1t\":{},\"gflops_blas_1t\":{},\"ratio_1t\":{},"
            "\"threads\":{},\"gflops_gflow_nt\":{},\"gflops_blas_nt\":{},\"ratio_nt\":{},\"reps_1t\":{},\"reps_nt\":{}}}\n",
            r.dtype, r.m.width, r.m.name, r.m.out, r.m.in, pass_name[r.pass], r.shape(), r.n, r.flops(), json_num(g1),
            json_num(b1), json_num(g1 / b1), n, json_num(gn), json_num(bn), json_num(gn / bn), r.reps1, r.repsN);
    }
    for (const char* dt : {"f32", "f64"})
        for (int w : c.opt.widths)
            for (bool gr : {true, false}) {
                if (!dtype_on(c.opt, dt)) continue;
                const step_time s = step(c, dt, w, gr);
                fmt::print("{{\"kind\":\"step\",\"dtype\":\"{}\",\"width\":{},\"model\":\"{}\",\"layers\":{},\"rows\":{},"
                           "\"ms_gflow_1t\":{},\"ms_blas_1t\":{},\"threads\":{},\"ms_gflow_nt\":{},\"ms_blas_nt\":{}}}\n",
                           dt, w, gr ? "grassmann" : "attention", layers, c.opt.rows, json_num(s.gflow1 * 1e3),
                           json_num(s.blas1 * 1e3), n, json_num(s.gflowN * 1e3), json_num(s.blasN * 1e3));
            }
}

const char* help =
    "products: gflow's product kernels (matvec_rows, matvec_rows_backward) against OpenBLAS's\n"
    "cblas_?gemm on the product shapes of the Tiny Shakespeare models (d = 64, 128, 256), f32 and f64.\n"
    "  --check           correctness only: all elements checked, one repetition, n = 64 rows\n"
    "  --json            one JSON object per row (and per step summary) instead of the table\n"
    "  --rows N          rows of the products, B*T (default 2048 = 8 x 256)\n"
    "  --budget SECONDS  timing budget for the whole run (default 60)\n"
    "  --dtype f32|f64|both\n"
    "  --threads N       the BLAS's second thread count (default 2)\n"
    "  --widths LIST     a comma-separated subset of 64,128,256\n";

options parse(int argc, char** argv) {
    options o;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", argv[i]));
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--check") o.check = true;
        else if (a == "--json") o.json = true;
        else if (a == "--rows") o.rows = std::stoi(value(i));
        else if (a == "--budget") o.budget = std::stod(value(i));
        else if (a == "--threads") o.threads = std::stoi(value(i));
        else if (a == "--dtype") {
            const std::string v = value(i);
            if (v == "f32") o.f64 = false;
            else if (v == "f64") o.f32 = false;
            else if (v != "both") throw std::invalid_argument("--dtype: f32, f64 or both");
        } else if (a == "--widths") {
            o.widths.clear();
            std::string v = value(i);
            for (std::size_t p = 0; p < v.size();) {
                const std::size_t q = std::min(v.find(',', p), v.size());
                o.widths.push_back(std::stoi(v.substr(p, q - p)));
                p = q + 1;
            }
        } else if (a == "--help" || a == "-h") {
            std::fputs(help, stdout);
            std::exit(0);
        } else {
            throw std::invalid_argument(fmt::format("unknown flag {} (see --help)", a));
        }
    }
    if (o.rows < 0) o.rows = o.check ? 64 : 2048;
    if (o.rows < 1 || o.threads < 1 || !(o.budget > 0)) throw std::invalid_argument("--rows, --threads, --budget must be positive");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    // gflow's own kernels against the BLAS: a build that hands products to the BLAS
    // (core/blas.hpp) would otherwise time the BLAS twice.
    gflow::blas::min_work() = std::numeric_limits<long>::max();
    context c;
    try {
        c.opt = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "products: %s\n", e.what());
        return 2;
    }
    const options& o = c.opt;
    std::vector<entry> entries;
    try {
        entries = all_entries(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "products: %s\n", e.what());
        return 2;
    }

    const double load_before = load_average();
    if (!o.json) {
        fmt::print("gflow products vs OpenBLAS: n = {} rows (B*T), median of repetitions, GFLOP/s (2MNK per product)\n", o.rows);
        fmt::print("CPU: {}; gflow compiled for {}; OpenBLAS {}\n{}\n", cpu_name(), gflow::simd::instruction_set,
                   openblas_get_config(), gflow::blas::core().line());
        fmt::print("1t: gflow::parallel::set_threads(1), openblas_set_num_threads(1); the thread's CPU time, the two\n"
                   "    libraries interleaved in random order. {0}t: set_threads({0}), openblas_set_num_threads({0}); wall time\n",
                   o.threads);
#if defined(_OPENMP)
        fmt::print("gflow's threads: OpenMP (core/parallel.hpp)\n");
#else
        fmt::print("gflow's threads: none in this build (no OpenMP): its {}t figures are one thread's\n", o.threads);
#endif
        fmt::print("load average (1 min) at the start: {:.2f}{}\n", load_before,
                   o.check ? "; --check: one repetition, the figures are not measurements" : "");
    }

    // The rows: (dtype, width, matrix, pass) in print order.
    struct job { measure_fn f; const matrix_info* m; const char* dtype; std::size_t first; };
    std::vector<job> jobs;
    for (const char* dt : {"f32", "f64"}) {
        if ((dt[1] == '3' && !o.f32) || (dt[1] == '6' && !o.f64)) continue;
        for (const entry& e : entries) {
            jobs.push_back({dt[1] == '3' ? e.f32 : e.f64, &e.m, dt, c.rows.size()});
            for (int p = 0; p < pass_count; ++p) c.rows.push_back(row{e.m, dt, o.rows, pass_kind(p)});
        }
    }
    // Three fifths of the budget to one thread, the rest to --threads, measured after all the
    // single-threaded figures: idle worker threads keep spinning for a while after a call.
    c.budget_per_group_1 = o.budget * 0.6 / double(jobs.size());
    c.budget_per_group_N = o.budget * 0.4 / double(jobs.size());
    const auto t0 = clock_type::now();
    gflow::parallel::set_threads(1);
    openblas_set_num_threads(1);
    for (const job& j : jobs) j.f(c, *j.m, j.dtype, 1, j.first);
    const double elapsed_1 = std::chrono::duration<double>(clock_type::now() - t0).count();
    gflow::parallel::set_threads(o.threads);
    openblas_set_num_threads(o.threads);
    for (const job& j : jobs) j.f(c, *j.m, j.dtype, o.threads, j.first);
    gflow::parallel::set_threads(1);
    openblas_set_num_threads(1);
    const double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();

    if (o.json) {
        print_json(c);
    } else {
        print_table(c);
        print_steps(c);
        fmt::print("\nload average (1 min) at the end: {:.2f}; {:.0f} s ({:.0f} s on one thread)\n", load_average(), elapsed,
                   elapsed_1);
        fmt::print("check: {} elements of every result checked against long double, worst |diff| / bound = {:.3g}: {}\n",
                   o.check ? "all" : "1002 sampled", c.check.worst, c.check.ok ? "ok" : "FAILED");
    }
    if (!c.check.ok) {
        std::fprintf(stderr, "products: check failed (%ld elements checked): %s\n", c.check.checked,
                     c.check.first_failure.c_str());
        return 1;
    }
    return 0;
}
