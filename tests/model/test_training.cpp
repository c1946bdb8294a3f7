// The training loop: a range of steps continues a schedule bit for bit, evaluation is a
// per-token mean, and a non-finite loss stops training naming the step and the parameter.
#define BOOST_TEST_MODULE model_training
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "names_model.hpp"

namespace {
constexpr auto names_model = names::model<1>(names::grassmann_mixer);
const std::vector<gflow::document> docs{{26, 4, 12, 12, 0, 26}, {26, 1, 14, 1, 26}, {26, 25, 14, 4, 26}};
}  // namespace

BOOST_AUTO_TEST_CASE(a_run_split_in_two_is_the_run_done_at_once) {
    const gflow::adam opt{.decay_steps = 60};
    auto once = gflow::instantiate<float>(names_model, 3);
    gflow::train(once, docs, opt, 0, 60);
    auto split = gflow::instantiate<float>(names_model, 3);
    gflow::train(split, docs, opt, 0, 25);
    gflow::train(split, docs, opt, 25, 60);
    BOOST_TEST(std::equal(once.parameters().begin(), once.parameters().end(), split.parameters().begin()));
}

BOOST_AUTO_TEST_CASE(evaluation_is_a_per_token_mean) {
    auto net = gflow::instantiate<double>(names_model, 3);
    double total = 0;
    int tokens = 0;
    for (const auto& d : docs) {
        total += net.loss(d) * double(d.size() - 1);
        tokens += int(d.size() - 1);
    }
    BOOST_TEST(gflow::evaluate(net, docs, 0, docs.size()) == total / tokens, boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(a_non_finite_loss_names_the_step_and_the_parameter) {
    auto net = gflow::instantiate<float>(names_model, 3);
    const gflow::adam opt{.decay_steps = 10};
    // the progress callback runs between chunks (of 1 step here): it spoils one weight after step 3
    auto spoil = [&](int step, double) {
        if (step == 3) net.parameter("layer0.W_plu")[7] = std::numeric_limits<float>::quiet_NaN();
    };
    try {
        gflow::train(net, docs, opt, 0, 10, spoil, 1);
        BOOST_FAIL("training went on with a NaN weight");
    } catch (const gflow::numeric_error& e) {
        const std::string message = e.what();
        BOOST_TEST(message.find("at step 3") != std::string::npos, message);
        BOOST_TEST(message.find("layer0.W_plu[7]") != std::string::npos, message);
        BOOST_TEST(message.find("last finite loss") != std::string::npos, message);
    }
}
