// The paper's 6-layer model written in the DSL (examples/paper_model.hpp): its parameter count at
// the paper's sizes, computed by the library and derived by hand below, and the same block
// structure at a small size against finite differences, decoding and training.
#define BOOST_TEST_MODULE paper_model
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gflow/testing/gradient_check.hpp>

#include "paper_model.hpp"

// ---- the paper's sizes ------------------------------------------------------------------------
// V = 30522, T = 128, d = 256, r = 32 (C(32,2) = 32·31/2 = 496), FFN 4d = 1024, 6 layers.
//   wte                        V d      = 30522 · 256           =  7,813,632
//   wpe                        T d      =   128 · 256           =     32,768
//   one layer:
//     W_red, b_red             r d + r  =  8,192 + 32           =      8,224
//     W_plu, b_plu             d 496 + d = 126,976 + 256        =    127,232
//     W_gate, b_gate           d 2d + d = 131,072 + 256         =    131,328
//     ln1.gain, ln1.bias       2 d                              =        512
//     mlp_fc1 weight, bias     4d d + 4d = 262,144 + 1,024      =    263,168
//     mlp_fc2 weight, bias     d 4d + d  = 262,144 + 256        =    262,400
//     ln2.gain, ln2.bias       2 d                              =        512
//                                                      layer    =    793,376
//   6 layers                                         6 · 793,376 =  4,760,256
//   lm_head                    V d (untied)                     =  7,813,632
//   total                      7,813,632 + 32,768 + 4,760,256 + 7,813,632 = 20,420,288
// (With the head tied to wte, as the paper's reproductions do: 12,606,656.)
constexpr std::size_t full_scale_by_hand = 20'420'288;
static_assert(paper::full_scale.parameter_count() == full_scale_by_hand);

BOOST_AUTO_TEST_CASE(full_scale_parameter_count_matches_the_hand_count) {
    BOOST_TEST(paper::full_scale.parameter_count() == full_scale_by_hand);
    const auto table = paper::full_scale.parameters();
    std::size_t total = 0;
    for (const auto& d : table) {
        BOOST_TEST(d.offset == total);   // the table tiles the arena, in order
        total += std::size_t(d.rows) * d.cols;
    }
    BOOST_TEST(total == full_scale_by_hand);
    BOOST_TEST(table.size() == 2u + 6u * 14u + 1u);
    BOOST_TEST(table[0].name == "wte");
    BOOST_TEST(table[1].name == "wpe");
    const std::vector<std::string> layer{"W_red",        "b_red",          "W_plu",          "b_plu",
                                         "W_gate",       "b_gate",         "ln1.gain",       "ln1.bias",
                                         "mlp_fc1.weight", "mlp_fc1.bias", "mlp_fc2.weight", "mlp_fc2.bias",
                                         "ln2.gain",     "ln2.bias"};
    for (std::size_t k = 0; k < layer.size(); ++k) {
        BOOST_TEST(table[2 + k].name == "layer0." + layer[k]);
        BOOST_TEST(table[2 + 5 * 14 + k].name == "layer5." + layer[k]);
    }
    BOOST_TEST(table[2 + 2].rows == 256);   // W_plu [d][C(r,2)]
    BOOST_TEST(table[2 + 2].cols == 496);
    BOOST_TEST(table.back().name == "lm_head");
    // the printing pass walks the same graph
    const auto signature = paper::full_scale.description();
    BOOST_TEST(signature.find("params=20420288") != std::string::npos, signature);
    BOOST_TEST(signature.find("grassmann_paper<r=32> window [1, 2, 4, 8, 12, 16]") != std::string::npos, signature);
    BOOST_TEST(signature.find("ln2: layernorm") != std::string::npos, signature);
}

// ---- the same structure, small ----------------------------------------------------------------
// d = 8, r = 3, vocabulary 11, block 6, 2 layers, the same window (offsets past 6 never exist):
//   wte 88 + wpe 48 + 2 · (27 + 32 + 136 + 16 + 288 + 264 + 16 = 779) + lm_head 88 = 1,782
constexpr auto small_max = paper::model<11, 6, 8, 3, 2>();
constexpr auto small_smooth = paper::model<11, 6, 8, 3, 2, gflow::terms::plucker_norm::smooth>();
static_assert(small_max.parameter_count() == 1782);
static_assert(small_smooth.parameter_count() == 1782);

namespace {
constexpr int bos = 10;
const std::vector<std::vector<int>> documents{
    {bos, 3, 1, 4, bos},                          // shorter than the block
    {bos, 1, 5, 9, 2, 6, 5, 3, 5, bos},           // longer: truncated to 6 predictions
};

template <class Model>
void check_gradient(Model m) {
    auto net = gflow::instantiate<double>(m, 11, 0.3);   // larger weights: a harder check
    for (const auto& doc : documents) {
        const auto report = gflow::testing::check_network(net, doc);
        BOOST_TEST_MESSAGE(report.checked << " parameters, max relative error "
                                          << report.max_relative_error << " (" << report.worst << ")");
        BOOST_TEST(report.checked == m.parameter_count());
        BOOST_TEST(report.max_relative_error <= 1e-6, report.worst);
    }
}

template <class Model>
void check_decoding(Model m) {
    auto net = gflow::instantiate<double>(m, 5, 0.3);
    const auto& doc = documents[1];
    const auto whole = net.logits(doc);
    const std::vector<double> expected(whole.begin(), whole.end());
    std::vector<double> incremental(expected.size());
    net.incremental_logits(doc, incremental);
    for (std::size_t i = 0; i < expected.size(); ++i)
        BOOST_TEST(std::abs(incremental[i] - expected[i]) <= 1e-12 * std::max(1.0, std::abs(expected[i])));
}
}  // namespace

BOOST_AUTO_TEST_CASE(whole_model_gradient_matches_finite_differences) {
    check_gradient(small_max);
    check_gradient(small_smooth);
}

BOOST_AUTO_TEST_CASE(decoding_one_token_at_a_time_matches_the_sequence_forward) {
    check_decoding(small_max);
    check_decoding(small_smooth);
}

BOOST_AUTO_TEST_CASE(training_lowers_the_loss_in_float) {
    auto net = gflow::instantiate<float>(small_max, 1);
    const auto& doc = documents[1];
    const float before = net.loss(doc);
    // post-LN with gains drawn near 0 (every weight ~ N(0, 0.08²)) starts slowly: 200 steps
    const gflow::adam opt{.decay_steps = 200};
    for (int step = 0; step < 200; ++step) net.train_step(doc, opt, step);
    BOOST_TEST_MESSAGE("loss " << before << " -> " << net.loss(doc));
    BOOST_TEST(net.loss(doc) < 0.2f * before);
}
