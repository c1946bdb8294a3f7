// Whole-model checks shared by the per-model test files (one model per translation unit).
// Before including, define GFLOW_TEST_MODEL as a constexpr model value.
#pragma once
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include <gflow/gflow.hpp>
#include <gflow/testing/gradient_check.hpp>

namespace model_checks {

using model_type = std::remove_cv_t<decltype(GFLOW_TEST_MODEL)>;
constexpr int V = model_type::config.vocab;
constexpr int bos = V - 1;

// "emma" and a document longer than the block size (truncated to T predictions).
inline std::vector<int> short_doc() { return {bos, 4, 12, 12, 0, bos}; }
inline std::vector<int> long_doc() {
    std::vector<int> d{bos};
    for (int i = 0; i < model_type::config.block + 5; ++i) d.push_back((i * 7 + 3) % (V - 1));
    d.push_back(bos);
    return d;
}

}  // namespace model_checks

BOOST_AUTO_TEST_CASE(whole_model_gradient_matches_finite_differences) {
    using namespace model_checks;
    auto net = gflow::instantiate<double>(GFLOW_TEST_MODEL, 11, 0.3);   // larger weights: a harder check
    for (const auto& doc : {short_doc(), long_doc()}) {
        const auto report = gflow::testing::check_network(net, doc);
        BOOST_TEST_MESSAGE(report.checked << " parameters, max relative error "
                                          << report.max_relative_error << " (" << report.worst << ")");
        BOOST_TEST(report.checked == GFLOW_TEST_MODEL.parameter_count());
        BOOST_TEST(report.max_relative_error <= 1e-6, report.worst);
    }
}

BOOST_AUTO_TEST_CASE(decoding_one_token_at_a_time_matches_the_sequence_forward) {
    using namespace model_checks;
    auto net = gflow::instantiate<double>(GFLOW_TEST_MODEL, 5);
    const auto doc = long_doc();
    const auto whole = net.logits(doc);
    const std::vector<double> expected(whole.begin(), whole.end());
    std::vector<double> incremental(expected.size());
    net.incremental_logits(doc, incremental);
    // the two paths round differently; logits are O(1), so compare against that scale
    for (std::size_t i = 0; i < expected.size(); ++i)
        BOOST_TEST(std::abs(incremental[i] - expected[i]) <= 1e-12 * std::max(1.0, std::abs(expected[i])));
    // an output one row short is refused, not overrun
    std::vector<double> short_by_a_row(expected.size() - std::size_t(GFLOW_TEST_MODEL.config.vocab));
    BOOST_CHECK_THROW(net.incremental_logits(doc, short_by_a_row), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(sampling_without_a_stop_token_draws_the_length_asked) {
    using namespace model_checks;
    auto net = gflow::instantiate<double>(GFLOW_TEST_MODEL, 5);
    gflow::rng gen(3), same(3);
    const int bos = GFLOW_TEST_MODEL.config.vocab - 1, block = GFLOW_TEST_MODEL.config.block;
    BOOST_TEST(net.sample(gen, bos, {.length = 7, .stop_at_start = false}).size() == 7u);
    BOOST_TEST(net.sample(gen, bos, {.length = 10 * block, .stop_at_start = false}).size() == std::size_t(block));
    // stopping at the start token gives the same draws, cut where the start token came
    const auto all = net.sample(same, bos, {.temperature = 2.0, .stop_at_start = false});
    gflow::rng again(3);
    const auto stopped = net.sample(again, bos, {.temperature = 2.0});
    const auto first_bos = std::find(all.begin(), all.end(), bos);
    BOOST_TEST(std::vector<int>(all.begin(), first_bos) == stopped);
}

BOOST_AUTO_TEST_CASE(same_seed_same_weights_same_training_same_samples) {
    using namespace model_checks;
    auto a = gflow::instantiate<float>(GFLOW_TEST_MODEL, 42);
    auto b = gflow::instantiate<float>(GFLOW_TEST_MODEL, 42);
    auto c = gflow::instantiate<float>(GFLOW_TEST_MODEL, 43);
    BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    BOOST_TEST(!std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
    const gflow::adam opt{.decay_steps = 40};
    const std::vector<std::vector<int>> docs{short_doc(), long_doc(), {bos, 1, 2, bos}};
    for (int step = 0; step < 40; ++step) {
        const auto& doc = docs[step % docs.size()];
        const float la = a.train_step(doc, opt, step), lb = b.train_step(doc, opt, step);
        BOOST_TEST(la == lb);
    }
    BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    gflow::rng ga(9), gb(9);
    for (int i = 0; i < 10; ++i) BOOST_TEST(a.sample(ga, bos) == b.sample(gb, bos));
}

BOOST_AUTO_TEST_CASE(training_lowers_the_loss_in_float_and_double) {
    using namespace model_checks;
    auto f = gflow::instantiate<float>(GFLOW_TEST_MODEL, 1);
    auto d = gflow::instantiate<double>(GFLOW_TEST_MODEL, 1);
    const auto doc = short_doc();
    const float f0 = f.loss(doc);
    const double d0 = d.loss(doc);
    BOOST_TEST(std::abs(f0 - d0) < 1e-5);   // same seed: same weights up to rounding
    const gflow::adam opt{.decay_steps = 100};
    for (int step = 0; step < 100; ++step) {
        f.train_step(doc, opt, step);
        d.train_step(doc, opt, step);
    }
    BOOST_TEST(f.loss(doc) < 0.2 * f0);
    BOOST_TEST(d.loss(doc) < 0.2 * d0);
}

BOOST_AUTO_TEST_CASE(samples_are_tokens_of_the_vocabulary_and_at_most_block_long) {
    using namespace model_checks;
    auto net = gflow::instantiate<float>(GFLOW_TEST_MODEL, 3);
    gflow::rng gen(1);
    for (int i = 0; i < 20; ++i) {
        const auto s = net.sample(gen, bos);
        BOOST_TEST(s.size() <= std::size_t(model_type::config.block));
        for (int t : s) BOOST_TEST((t >= 0 && t < bos));
    }
}

BOOST_AUTO_TEST_CASE(bad_documents_are_refused) {
    using namespace model_checks;
    auto net = gflow::instantiate<float>(GFLOW_TEST_MODEL, 3);
    BOOST_CHECK_THROW(net.loss(std::vector<int>{bos}), std::invalid_argument);
    BOOST_CHECK_THROW(net.loss(std::vector<int>{bos, V, bos}), std::invalid_argument);
    BOOST_CHECK_THROW(net.loss(std::vector<int>{bos, -1, bos}), std::invalid_argument);
}
