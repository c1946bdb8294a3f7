// Threads (core/parallel.hpp): the loss and the weights after N training steps are the same, bit
// for bit, with 1 and with 2 threads, for a batch and for one document, through every parallel
// path (min_work 0: every loop that may be spread over the threads is), with the products on
// gflow's kernels and, where the build has a BLAS, on the BLAS (core/blas.hpp). The Tiny
// Shakespeare test (examples/shakespeare_cli) does the same at a size where the BLAS calls come
// in several blocks.
#define BOOST_TEST_MODULE model_threads
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

#include <gflow/gflow.hpp>
#include <gflow/terms/stack.hpp>

namespace {
using namespace gflow::terms;

constexpr auto layer(auto mixer) { return residual(rmsnorm >> mixer) >> residual(rmsnorm >> ffn<4>(relu)); }

// Both mixers in one model: layer0 Grassmann, layer1 attention; up to 4 documents a step.
constexpr auto model = gflow::model<vocab<27>, block<16>, width<16>, batch<4>>(
    (token_embedding + position_embedding) >> rmsnorm
    >> layers(layer(grassmann<4>(offsets<1, 2, 4, 8>)), layer(attention<4>)) >> lm_head);

std::vector<gflow::document> corpus() {
    std::vector<gflow::document> docs;
    for (int d = 0; d < 12; ++d) {
        gflow::document doc{26};
        for (int i = 0; i < 2 + (d * 5) % 19; ++i) doc.push_back((d * 7 + i * 3) % 26);
        doc.push_back(26);
        docs.push_back(doc);
    }
    return docs;
}

struct trained {
    std::vector<float> losses, weights;
};

// 20 steps on batches of 1 to 4 documents (and one-document steps), with `threads` threads.
[[maybe_unused]] trained train(int threads, long blas_min_work = 1L << 16,
                               gflow::step_schedule schedule = gflow::step_schedule::by_operation) {
    gflow::blas::min_work() = blas_min_work;
    gflow::parallel::set_threads(threads);
    gflow::parallel::min_work() = 0;
    auto net = gflow::instantiate<float>(model, 42);
    net.set_schedule(schedule);
    const auto docs = corpus();
    const gflow::adam opt{.lr = 0.01, .decay_steps = 20};
    trained out;
    for (int step = 0; step < 20; ++step) {
        const std::size_t first = std::size_t(step) % 8, count = 1 + std::size_t(step) % 4;
        if (step % 5 == 4) out.losses.push_back(net.train_step(docs[first], opt, step));
        else out.losses.push_back(net.train_step(std::span<const gflow::document>(docs.data() + first, count), opt, step));
    }
    out.weights.assign(net.parameters().begin(), net.parameters().end());
    return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(one_and_two_threads_train_the_same_weights_bit_for_bit) {
#if defined(_OPENMP)
    const trained one = train(1);
    BOOST_TEST_REQUIRE(gflow::parallel::threads() == 1);
    const trained two = train(2);
    BOOST_TEST_REQUIRE(gflow::parallel::threads() == 2);
    BOOST_TEST(one.losses == two.losses);
    BOOST_TEST(one.weights == two.weights);
    BOOST_TEST(std::all_of(one.losses.begin(), one.losses.end(), [](float l) { return l > 0 && l < 10; }));
#else
    BOOST_TEST_MESSAGE("built without OpenMP: one thread only, nothing to compare");
#endif
}

BOOST_AUTO_TEST_CASE(every_product_through_the_blas_the_same_bit_for_bit) {
#if defined(_OPENMP)
    if constexpr (!gflow::blas::enabled) {
        BOOST_TEST_MESSAGE("built without a BLAS: the case above covers gflow's kernels");
        return;
    }
    const trained one = train(1, 0);
    const trained two = train(2, 0);
    BOOST_TEST(one.losses == two.losses);
    BOOST_TEST(one.weights == two.weights);
    const trained kernels = train(1);   // the BLAS really ran: its roundings differ from the kernels'
    BOOST_TEST(one.weights != kernels.weights);
    BOOST_TEST(std::all_of(one.losses.begin(), one.losses.end(), [](float l) { return l > 0 && l < 10; }));
#else
    BOOST_TEST_MESSAGE("built without OpenMP: one thread only, nothing to compare");
#endif
}

// step_schedule::by_document: each document's whole step on a thread, gradients summed in
// document order; the same bit for bit at 1 and 2 threads, on gflow's kernels and on the BLAS,
// and not the by-operation step's roundings (the schedule really changed).
BOOST_AUTO_TEST_CASE(by_document_the_same_bit_for_bit) {
#if defined(_OPENMP)
    constexpr auto by_document = gflow::step_schedule::by_document;
    const trained one = train(1, 1L << 16, by_document);
    const trained two = train(2, 1L << 16, by_document);
    BOOST_TEST(one.losses == two.losses);
    BOOST_TEST(one.weights == two.weights);
    BOOST_TEST(one.weights != train(1).weights);
    if constexpr (gflow::blas::enabled) {
        const trained blas_one = train(1, 0, by_document);
        const trained blas_two = train(2, 0, by_document);
        BOOST_TEST(blas_one.losses == blas_two.losses);
        BOOST_TEST(blas_one.weights == blas_two.weights);
    }
    BOOST_TEST(std::all_of(one.losses.begin(), one.losses.end(), [](float l) { return l > 0 && l < 10; }));
#else
    BOOST_TEST_MESSAGE("built without OpenMP: one thread only, nothing to compare");
#endif
}
