// A training step (forward, backward, Adam update) and a loss evaluation allocate nothing:
// every global operator new is counted while they run, and (outside sanitizer builds, whose
// runtime owns malloc) every malloc, calloc, realloc and aligned allocation of the C library,
// made by any library in the process: OpenMP's runtime and the BLAS (core/blas.hpp) included.
#define BOOST_TEST_MODULE model_no_allocation
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>

#include "names_model.hpp"

// GCC 12 pairs the replaced operator new below with std::free after inlining and warns; the
// pairing is the replacement's own, and correct.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<long> allocations{0};
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define GFLOW_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GFLOW_SANITIZED 1
#endif
#if defined(__GLIBC__) && !defined(GFLOW_SANITIZED)
// glibc's own entry points, under the names it exports for exactly this use (interposing).
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* malloc(std::size_t size) {
    ++allocations;
    return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
    ++allocations;
    return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) {
    ++allocations;
    return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t align, std::size_t size) {
    ++allocations;
    return __libc_memalign(align, size);
}
void* memalign(std::size_t align, std::size_t size) {
    ++allocations;
    return __libc_memalign(align, size);
}
int posix_memalign(void** out, std::size_t align, std::size_t size) {
    ++allocations;
    *out = __libc_memalign(align, size);
    return *out ? 0 : ENOMEM;
}
}
#define GFLOW_COUNTS_MALLOC 1
#endif

void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc{};
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
    ++allocations;
    const std::size_t a = static_cast<std::size_t>(align);
    if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
    throw std::bad_alloc{};
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

template <class S, class Model>
long allocations_during_training(Model m) {
    auto net = gflow::instantiate<S>(m, 1);
    const std::vector<int> doc{26, 4, 12, 12, 0, 26}, long_doc(40, 3);
    const gflow::adam opt{.decay_steps = 100};
    const long before = allocations.load();
    for (int step = 0; step < 100; ++step) {
        net.train_step(step % 2 ? doc : long_doc, opt, step);
        net.loss(doc);
    }
    return allocations.load() - before;
}

BOOST_AUTO_TEST_CASE(the_counter_sees_allocations) {
    const long before = allocations.load();
    auto* p = new std::vector<int>(10);
    delete p;
    BOOST_TEST(allocations.load() - before >= 2);
}

BOOST_AUTO_TEST_CASE(no_heap_work_in_a_training_step) {
    BOOST_TEST(allocations_during_training<float>(names::model<1>(names::grassmann_mixer)) == 0);
    BOOST_TEST(allocations_during_training<double>(names::model<1>(names::grassmann_mixer)) == 0);
    BOOST_TEST(allocations_during_training<float>(names::model<2>(names::attention_mixer)) == 0);
}

// A batch of documents of unequal lengths (gflow::with_batch): the batch's tokens, targets and
// lengths live in buffers the network allocated once.
template <class S, class Model>
long allocations_during_batched_training(Model m, gflow::step_schedule schedule = gflow::step_schedule::by_operation) {
    auto net = gflow::instantiate<S>(m, 1);
    net.set_schedule(schedule);   // allocates the by-document arenas here, before the steps
    const std::vector<gflow::document> batch{{26, 4, 12, 12, 0, 26}, std::vector<int>(40, 3), {26, 1, 26}};
    const gflow::adam opt{.decay_steps = 100};
    const long before = allocations.load();
    for (int step = 0; step < 100; ++step) {
        const std::span<const gflow::document> docs(batch.data(), std::size_t(1 + step % 3));
        net.train_step(docs, opt, step);
        net.loss(docs);
    }
    return allocations.load() - before;
}

BOOST_AUTO_TEST_CASE(the_counter_sees_the_c_librarys_allocations) {
#if defined(GFLOW_COUNTS_MALLOC)
    const long before = allocations.load();
    void* volatile p = std::malloc(100);
    std::free(p);
    BOOST_TEST(allocations.load() - before == 1);
#else
    BOOST_TEST_MESSAGE("a sanitizer build: malloc belongs to the sanitizer, operator new alone is counted");
#endif
}

// Every product through the BLAS, on 2 threads, on either schedule: after the first step (which
// may set up the BLAS's and OpenMP's buffers), nothing.
BOOST_AUTO_TEST_CASE(no_heap_work_with_the_blas_on_two_threads) {
    gflow::blas::min_work() = 0;
    gflow::parallel::set_threads(2);
    gflow::parallel::min_work() = 0;
    for (const auto schedule : {gflow::step_schedule::by_operation, gflow::step_schedule::by_document}) {
        auto net = gflow::instantiate<float>(gflow::with_batch<3>(names::model<2>(names::attention_mixer)), 1);
        net.set_schedule(schedule);
        const std::vector<gflow::document> batch{{26, 4, 12, 12, 0, 26}, std::vector<int>(40, 3), {26, 1, 26}};
        const gflow::adam opt{.decay_steps = 100};
        net.train_step(std::span<const gflow::document>(batch), opt, 0);
        const long before = allocations.load();
        for (int step = 1; step < 50; ++step) {
            const std::span<const gflow::document> docs(batch.data(), std::size_t(1 + step % 3));
            net.train_step(docs, opt, step);
            net.loss(docs);
        }
        BOOST_TEST(allocations.load() - before == 0, "schedule " << int(schedule));
    }
    gflow::blas::min_work() = 1L << 16;
    gflow::parallel::min_work() = 1L << 18;
}

BOOST_AUTO_TEST_CASE(no_heap_work_in_a_batched_training_step) {
    BOOST_TEST(allocations_during_batched_training<float>(gflow::with_batch<3>(names::model<1>(names::grassmann_mixer))) == 0);
    BOOST_TEST(allocations_during_batched_training<double>(gflow::with_batch<3>(names::model<2>(names::attention_mixer))) == 0);
    BOOST_TEST(allocations_during_batched_training<float>(gflow::with_batch<3>(names::model<1>(names::grassmann_mixer)),
                                                          gflow::step_schedule::by_document) == 0);
}
