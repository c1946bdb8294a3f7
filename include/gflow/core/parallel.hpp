// gflow/core/parallel.hpp: one step's work spread over the machine's cores, with results that do
// not depend on how many there are.
//
// Threads come from OpenMP (the compiler's own runtime, libgomp with g++; Meson's
// dependency('openmp')): a parallel loop is one pragma over loops gflow already has, the thread
// pool persists between steps (no thread is started, and nothing is allocated, in a step), and a
// build without OpenMP runs the same loops on one thread. Every parallel loop here gives each
// iteration outputs of its own and keeps every sum in a fixed order (a product's weight gradient
// is split by output row, never by the rows it sums over), so the loss and the weights after
// any number of steps are the same, bit for bit, whatever the thread count (tested).
#pragma once
#include <algorithm>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace gflow::parallel {

// Threads a step may use (all the machine's cores unless set).
inline int threads() {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}
inline void set_threads(int n) {
#if defined(_OPENMP)
    omp_set_num_threads(std::max(1, n));
#else
    (void)n;
#endif
}

// A loop is spread over the threads when it does at least this many multiply-adds (or
// comparable operations), some 20-50 µs on one core: below it, waking the threads costs more
// than it saves (the names and parens models' loops stay on one thread, batched or not).
// Tests set it to 0 to run every parallel path.
inline long& min_work() {
    static long value = 1L << 18;
    return value;
}

// Whether a loop of `work` operations is spread over the threads (not inside another parallel
// loop: an outer loop over the documents of a batch already keeps the threads busy).
inline bool worth(long work) {
#if defined(_OPENMP)
    return work >= min_work() && threads() > 1 && !omp_in_parallel();
#else
    (void)work;
    return false;
#endif
}

namespace detail {
// The parallel loop lives in a function of its own: a function that contains an OpenMP region
// has every variable the region uses taken by address, which would keep the serial loop's
// values in memory too (measured: 35 % on the names step).
template <class F>
[[gnu::noinline]] void parallel_loop(int count, const F& f) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
    for (int i = 0; i < count; ++i) f(i);
#else
    for (int i = 0; i < count; ++i) f(i);
#endif
}
}  // namespace detail

// f(i) for i in [0, count), spread over the threads when `work` (the whole loop's operations)
// reaches min_work(). Each i must write outputs of its own. Give f its values by copy ([=]):
// what a lambda holds by reference escapes to the threads, and stays in memory on one thread.
template <class F>
inline void for_each(int count, long work, const F& f) {
    if (count > 1 && worth(work)) return detail::parallel_loop(count, f);
    for (int i = 0; i < count; ++i) f(i);
}

}  // namespace gflow::parallel
