// Batches, shared by the per-mixer test files: before including, define GFLOW_TEST_MODEL as a
// constexpr model value (batch 1). The same model with batch<3> takes three documents of unequal
// lengths a step; positions past a document's end must count in neither the loss nor any
// gradient, and the mixers must keep the documents apart.
#pragma once
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <gflow/gflow.hpp>
#include <gflow/testing/gradient_check.hpp>
#include <gflow/testing/tolerance.hpp>

namespace batch_checks {

constexpr auto single = GFLOW_TEST_MODEL;
constexpr auto batched = gflow::with_batch<3>(single);
constexpr int V = decltype(single)::config.vocab, T = decltype(single)::config.block, bos = V - 1;

static_assert(batched.parameter_count() == single.parameter_count());

// Three documents: 5, T + 5 (truncated to T) and 2 predictions.
inline std::vector<gflow::document> documents() {
    std::vector<int> longer{bos};
    for (int i = 0; i < T + 5; ++i) longer.push_back((i * 7 + 3) % (V - 1));
    longer.push_back(bos);
    return {{bos, 4, 12, 12, 0, bos}, longer, {bos, 1, bos}};
}
inline int predictions(const gflow::document& d) { return std::min<int>(T, int(d.size()) - 1); }

constexpr gflow::step_schedule schedules[] = {gflow::step_schedule::by_operation, gflow::step_schedule::by_document};
inline const char* name(gflow::step_schedule s) {
    return s == gflow::step_schedule::by_operation ? "by_operation" : "by_document";
}

}  // namespace batch_checks

BOOST_AUTO_TEST_CASE(batched_model_has_the_models_parameters) {
    using namespace batch_checks;
    BOOST_TEST(decltype(batched)::signature() == decltype(single)::signature());
    static_assert(decltype(batched)::activation_count() > decltype(single)::activation_count());
}

// Each check below runs on both schedules of a batched step (gflow::step_schedule).
BOOST_AUTO_TEST_CASE(a_batch_is_the_token_weighted_mean_of_its_documents) {
    for (const gflow::step_schedule schedule : batch_checks::schedules) BOOST_TEST_CONTEXT(batch_checks::name(schedule)) {
        using namespace batch_checks;
        auto one = gflow::instantiate<double>(single, 7, 0.3);
        auto many = gflow::instantiate<double>(batched, 7, 0.3);
        many.set_schedule(schedule);
        BOOST_TEST_REQUIRE((many.schedule() == schedule));
        const auto docs = documents();
        // what the batch must equal: each document alone, weighted by its predicted tokens
        double loss = 0;
        int count = 0;
        std::vector<double> grad(single.parameter_count(), 0.0);
        for (const auto& d : docs) {
            const int n = predictions(d);
            loss += one.loss_and_gradient(d) * n;
            count += n;
            for (std::size_t i = 0; i < grad.size(); ++i) grad[i] += one.gradients()[i] * n;
        }
        loss /= count;
        for (auto& g : grad) g /= count;
        const double batch_loss = many.loss_and_gradient(std::span<const gflow::document>(docs));
        BOOST_TEST(many.loss(std::span<const gflow::document>(docs)) == batch_loss);   // the forward alone: the same sums
        // The two compute the same sums over rows grouped differently (the batch by operation sums a
        // parameter's gradient over all 3 T rows at once; by document, and the reference, per
        // document, then over the documents, the reference after weighting them): the longest
        // sums have 3 T terms per layer of the backward pass, of numbers no larger than the largest
        // component of the gradient (respectively the largest per-token loss, < 2 log V here).
        const double scale = *std::max_element(grad.begin(), grad.end(), [](double a, double b) {
            return std::abs(a) < std::abs(b);
        });
        const int roundings = 4 * 3 * T;
        BOOST_TEST(std::abs(batch_loss - loss) <= gflow::testing::rounding_error(roundings, 2 * std::log(double(V))));
        double worst = 0;
        for (std::size_t i = 0; i < grad.size(); ++i) worst = std::max(worst, std::abs(many.gradients()[i] - grad[i]));
        BOOST_TEST_MESSAGE("largest gradient difference " << worst << " (bound "
                                                          << gflow::testing::rounding_error(roundings, std::abs(scale)) << ")");
        BOOST_TEST(worst <= gflow::testing::rounding_error(roundings, std::abs(scale)));
    }
}

BOOST_AUTO_TEST_CASE(batch_gradient_matches_finite_differences) {
    for (const gflow::step_schedule schedule : batch_checks::schedules) BOOST_TEST_CONTEXT(batch_checks::name(schedule)) {
        using namespace batch_checks;
        auto net = gflow::instantiate<double>(batched, 11, 0.3);
        net.set_schedule(schedule);
        const auto docs = documents();
        // every third scalar of each tensor (and its first and last): what is checked here is the
        // masking and the per-document mixers, which every tensor's gradient passes through
        constexpr std::size_t stride = 3;
        const auto report = gflow::testing::check_network(net, std::span<const gflow::document>(docs), 1e-6, stride);
        BOOST_TEST_MESSAGE(report.checked << " parameters, max relative error " << report.max_relative_error << " ("
                                          << report.worst << ")");
        BOOST_TEST(report.checked >= single.parameter_count() / stride);
        BOOST_TEST(report.max_relative_error <= 1e-6, report.worst);
    }
}

BOOST_AUTO_TEST_CASE(a_batch_of_one_is_the_one_document_step_bit_for_bit) {
    using namespace batch_checks;
    auto one = gflow::instantiate<float>(single, 3);
    auto many = gflow::instantiate<float>(batched, 3);
    const auto docs = documents();
    const gflow::adam opt{.decay_steps = 10};
    for (int step = 0; step < 10; ++step) {
        const auto& d = docs[std::size_t(step) % docs.size()];
        BOOST_TEST(one.train_step(d, opt, step) == many.train_step(std::span<const gflow::document>(&d, 1), opt, step));
    }
    BOOST_TEST(std::equal(one.parameters().begin(), one.parameters().end(), many.parameters().begin()));
}

BOOST_AUTO_TEST_CASE(the_order_of_a_batch_changes_nothing_but_rounding) {
    for (const gflow::step_schedule schedule : batch_checks::schedules) BOOST_TEST_CONTEXT(batch_checks::name(schedule)) {
        using namespace batch_checks;
        auto net = gflow::instantiate<double>(batched, 5);
        net.set_schedule(schedule);
        auto docs = documents();
        const double forward = net.loss_and_gradient(std::span<const gflow::document>(docs));
        const std::vector<double> g(net.gradients().begin(), net.gradients().end());
        std::reverse(docs.begin(), docs.end());
        const double reversed = net.loss_and_gradient(std::span<const gflow::document>(docs));
        // the same terms summed in another order: 3 T rows per sum, numbers of the size of the loss
        BOOST_TEST(std::abs(forward - reversed) <= gflow::testing::rounding_error(4 * 3 * T, 2 * std::log(double(V))));
        double scale = 0, worst = 0;
        for (std::size_t i = 0; i < g.size(); ++i) {
            scale = std::max(scale, std::abs(g[i]));
            worst = std::max(worst, std::abs(g[i] - net.gradients()[i]));
        }
        BOOST_TEST(worst <= gflow::testing::rounding_error(4 * 3 * T, scale));
    }
}

BOOST_AUTO_TEST_CASE(decoding_a_batched_model_is_decoding_one_sequence) {
    for (const gflow::step_schedule schedule : batch_checks::schedules) BOOST_TEST_CONTEXT(batch_checks::name(schedule)) {
        using namespace batch_checks;
        auto one = gflow::instantiate<double>(single, 9);
        auto many = gflow::instantiate<double>(batched, 9);
        many.set_schedule(schedule);   // by document, one-document passes run in the first document's arena
        const auto doc = documents()[1];
        std::vector<double> a(std::size_t(T) * V), b(std::size_t(T) * V);
        one.incremental_logits(doc, a);
        many.incremental_logits(doc, b);
        BOOST_TEST(a == b);   // the same code on the same numbers
        const auto whole_one = one.logits(doc);
        const std::vector<double> first(whole_one.begin(), whole_one.end());
        const auto whole_many = many.logits(doc);
        BOOST_TEST(std::equal(first.begin(), first.end(), whole_many.begin(), whole_many.end()));
    }
}

BOOST_AUTO_TEST_CASE(more_documents_than_the_batch_holds_is_an_error) {
    using namespace batch_checks;
    auto net = gflow::instantiate<float>(batched, 1);
    auto docs = documents();
    docs.push_back(docs[0]);
    BOOST_CHECK_THROW(net.loss(std::span<const gflow::document>(docs)), std::invalid_argument);
    BOOST_CHECK_THROW(net.loss(std::span<const gflow::document>()), std::invalid_argument);
}
