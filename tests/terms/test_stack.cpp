#define BOOST_TEST_MODULE terms_stack
#include "term_check.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include <gflow/terms/chain.hpp>
#include <gflow/terms/grassmann.hpp>
#include <gflow/terms/linear.hpp>
#include <gflow/terms/repeat.hpp>
#include <gflow/terms/residual.hpp>
#include <gflow/terms/rmsnorm.hpp>
#include <gflow/terms/stack.hpp>

#include "parens_model.hpp"

using namespace gflow::terms;
constexpr gflow::dims sizes{5, 9, 6};   // vocabulary 5, 9 positions, width 6

// Three layers of different structure and different windows.
constexpr auto mixing_layer = [](auto window) { return residual(rmsnorm >> grassmann<3>(window)); };
using three = decltype(layers(mixing_layer(offsets<1>), mixing_layer(offsets<2, 3>),
                              residual(rmsnorm >> linear<6, "A">)));
// One offset per layer, the paper's way of writing a schedule.
using scheduled = decltype(schedule<1, 2, 4>(mixing_layer));

template <class T>
std::vector<gflow::param_desc> params_of() {
    std::vector<gflow::param_desc> out;
    gflow::bind<T, sizes, 6>::for_each_param([&](const auto& d) { out.push_back(d); }, 0, "");
    return out;
}

BOOST_AUTO_TEST_CASE(a_stack_is_flat) {
    using A = decltype(mixing_layer(offsets<1>));
    using B = decltype(mixing_layer(offsets<2, 3>));
    using L = decltype(residual(rmsnorm >> linear<6, "A">));
    static_assert(std::is_same_v<three, gflow::stack_t<A, B, L>>);
    static_assert(std::is_same_v<scheduled, gflow::stack_t<decltype(mixing_layer(offsets<1>)),
                                                           decltype(mixing_layer(offsets<2>)),
                                                           decltype(mixing_layer(offsets<4>))>>);
    static_assert(std::is_same_v<decltype(schedule(mixing_layer, offsets<1>, offsets<2, 3>)),
                                 gflow::stack_t<A, B>>);
    using I = gflow::bind<three, sizes, 6>;
    static_assert(I::in_width == 6 && I::out_width == 6);
    using G = gflow::bind<grassmann_t<3, 1>, sizes, 6>;
    static_assert(I::param_size == 2 * G::param_size + 36);
    // decoding state: each layer keeps max(its window) reduced vectors of r = 3
    static_assert(I::state_size == (1 + 3) * 3);
    static_assert(gflow::bind<scheduled, sizes, 6>::state_size == (1 + 2 + 4) * 3);
    // memory plan: kept, the layers' kept blocks and two boundaries [T][W]; scratch, the two
    // boundaries' gradients and the space the layers share for theirs, the largest of them
    using L0 = gflow::bind<A, sizes, 6>;
    using L1 = gflow::bind<B, sizes, 6>;
    using L2 = gflow::bind<L, sizes, 6>;
    using gflow::kept_of, gflow::scratch_of;
    static_assert(I::kept_size == kept_of<L0>() + kept_of<L1>() + kept_of<L2>() + 2 * 9 * 6);
    static_assert(I::scratch_size == 2 * 9 * 6 + std::max({scratch_of<L0>(), scratch_of<L1>(), scratch_of<L2>()}));
    static_assert(I::act_size == I::kept_size + I::scratch_size);
    static_assert(scratch_of<L0>() > 0, "the Grassmann layers' inner gradients are scratch");
}

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(three, sizes, 6, 1);
    GFLOW_CHECK_TERM_GRADIENT(scheduled, sizes, 6, 2);
}

BOOST_AUTO_TEST_CASE(each_layer_has_its_own_named_parameters) {
    const auto names = params_of<three>();
    BOOST_TEST_REQUIRE(names.size() == 9u);
    BOOST_TEST(names[0].name == "layer0.W_red");
    BOOST_TEST(names[3].name == "layer0.W_gate_g");
    BOOST_TEST(names[4].name == "layer1.W_red");
    BOOST_TEST(names[8].name == "layer2.A");
    using G = gflow::bind<grassmann_t<3, 1>, sizes, 6>;
    BOOST_TEST(names[4].offset == G::param_size);
    BOOST_TEST(names[8].offset == 2 * G::param_size);
    // inside another prefix, as a model would nest it
    std::vector<gflow::param_desc> nested;
    gflow::bind<three, sizes, 6>::for_each_param([&](const auto& d) { nested.push_back(d); }, 100, "enc.");
    BOOST_TEST(nested[8].name == "enc.layer2.A");
    BOOST_TEST(nested[8].offset == 100 + 2 * G::param_size);
}

// A stack of identical layers is repeat<N>: same names, offsets, memory and outputs.
BOOST_AUTO_TEST_CASE(identical_layers_are_repeat) {
    constexpr auto body = mixing_layer(offsets<1, 2>);
    using stacked = decltype(layers(body, body, body));
    using repeated = decltype(repeat<3>(body));
    using S = gflow::bind<stacked, sizes, 6>;
    using R = gflow::bind<repeated, sizes, 6>;
    static_assert(S::param_size == R::param_size && S::act_size == R::act_size && S::state_size == R::state_size);
    const auto a = params_of<stacked>(), b = params_of<repeated>();
    BOOST_TEST_REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        BOOST_TEST(a[i].name == b[i].name);
        BOOST_TEST(a[i].offset == b[i].offset);
    }
    gflow::rng gen(3);
    std::vector<double> w(S::param_size), x(9 * 6), ys(x.size()), yr(x.size()), as(S::act_size), ar(R::act_size);
    for (auto& v : w) v = 0.5 * gen.normal();
    for (auto& v : x) v = gen.normal();
    const gflow::pass p{9, nullptr, 0};
    S::forward(p, w.data(), as.data(), x.data(), ys.data());
    R::forward(p, w.data(), ar.data(), x.data(), yr.data());
    BOOST_TEST(ys == yr);
}

// Decoding one position at a time, each layer with its own ring, equals the sequence forward.
BOOST_AUTO_TEST_CASE(decoding_matches_the_sequence_forward) {
    using I = gflow::bind<three, sizes, 6>;
    gflow::rng gen(4);
    std::vector<double> w(I::param_size), x(9 * 6), y(x.size()), a(I::act_size), state(I::state_size);
    for (auto& v : w) v = 0.5 * gen.normal();
    for (auto& v : x) v = gen.normal();
    I::forward(gflow::pass{9, nullptr, 0}, w.data(), a.data(), x.data(), y.data());
    std::vector<double> row(6);
    for (int t = 0; t < 9; ++t) {
        I::decode(gflow::pass{1, nullptr, t}, w.data(), a.data(), state.data(), x.data() + t * 6, row.data());
        for (int i = 0; i < 6; ++i) BOOST_TEST(std::abs(row[i] - y[t * 6 + i]) <= 1e-12);
    }
}

// The paper's 12-layer schedule (one offset per layer) in the parenthesis model: it compiles, its
// parameters read layer0.W_red .. layer11.W_red, and its whole gradient matches finite differences.
BOOST_AUTO_TEST_CASE(the_paper_schedule_model) {
    constexpr auto m = parens::paper_schedule;
    static_assert(m.decode_state_count() == (1 + 1 + 2 + 2 + 4 + 4 + 8 + 8 + 12 + 12 + 16 + 16) * 4);
    const auto params = m.parameters();
    std::vector<std::string> reds;
    for (const auto& d : params)
        if (d.name.ends_with("W_red")) reds.push_back(d.name);
    BOOST_TEST_REQUIRE(reds.size() == 12u);
    BOOST_TEST(reds.front() == "layer0.W_red");
    BOOST_TEST(reds.back() == "layer11.W_red");

    auto net = gflow::instantiate<double>(m, 11, 0.3);
    const std::vector<int> doc{2, 0, 0, 1, 0, 1, 1, 2};   // "(()())"
    // every 29th scalar of each tensor (and its first and last): 1,200-odd of the 33,760
    const auto report = gflow::testing::check_network(net, doc, 1e-6, 29);
    BOOST_TEST_MESSAGE(report.checked << " parameters, max relative error " << report.max_relative_error << " ("
                                      << report.worst << ")");
    BOOST_TEST(report.checked > m.parameter_count() / 29);
    BOOST_TEST(report.max_relative_error <= 1e-6, report.worst);

    std::vector<int> long_doc{2};
    for (int i = 0; i < 40; ++i) long_doc.push_back(i % 3 == 2);
    long_doc.push_back(2);
    const auto whole = net.logits(long_doc);
    const std::vector<double> expected(whole.begin(), whole.end());
    std::vector<double> incremental(expected.size());
    net.incremental_logits(long_doc, incremental);
    for (std::size_t i = 0; i < expected.size(); ++i)
        BOOST_TEST(std::abs(incremental[i] - expected[i]) <= 1e-12 * std::max(1.0, std::abs(expected[i])));
}
