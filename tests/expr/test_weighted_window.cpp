// The mixer of docs/new_mixer.md, the Grassmann mixer with a learned weight per offset
// (examples/weighted_window.hpp), and the node it adds, expr::scale: gradients against finite
// differences, decoding equal to the forward pass, the Grassmann mixer at a_δ = 0,
// and a whole names model through the model and batch checks every mixer passes.
#define BOOST_TEST_MODULE expr_weighted_window
#include "../terms/term_check.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gflow/expr/scale.hpp>
#include <gflow/random.hpp>
#include <gflow/testing/tolerance.hpp>

#include "names_model.hpp"
#include "weighted_window.hpp"

using namespace gflow::terms;

namespace {
// scale alone, and scales of values that start at different positions, averaged where they exist
constexpr auto scaled = expression<"scaled">([](auto h, auto) { return gflow::expr::scale<"a">(h); });
constexpr auto scaled_window = expression<"scaled window">([](auto h, auto) {
    using namespace gflow::expr;
    return window_mean(scale<"a_0">(h), scale<"a_1">(shift<1>(h)), scale<"a_3">(shift<3>(h)));
});

static_assert(weighted::weight_name<1>().view() == "a_1" && weighted::weight_name<12>().view() == "a_12" &&
              weighted::weight_name<100>().view() == "a_100");

constexpr gflow::dims sizes{5, 9, 6};
constexpr gflow::dims names_dims{27, 16, 16};
constexpr auto small_window = weighted::weighted_grassmann<4>(offsets<1, 2, 5>);

using gflow::testing::decode_difference;   // forward, then decoding position by position: the same outputs

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0, s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        m = std::max(m, std::abs(a[i] - b[i]));
        s = std::max(s, std::abs(b[i]));
    }
    return m / std::max(s, 1e-300);
}

struct run {
    std::vector<double> y, dx, decoded;
    std::map<std::string, std::vector<double>> dw;
};

// Forward, backward and decoding of term I with the weights given by name (0 for a name not given).
template <class I>
run run_term(const std::map<std::string, std::vector<double>>& weights, const std::vector<double>& x,
             const std::vector<double>& dy, int n) {
    constexpr int W = I::in_width;
    std::vector<double> w(I::param_size, 0.0), dw(I::param_size, 0.0), a(I::act_size + 1, 0.0),
        state(I::state_size + 1, 0.0);
    std::vector<gflow::param_desc> params;
    I::for_each_param([&](const gflow::param_desc& p) { params.push_back(p); }, 0, "");
    for (const auto& p : params)
        if (auto it = weights.find(p.name); it != weights.end())
            std::copy(it->second.begin(), it->second.end(), w.begin() + p.offset);
    run r;
    r.y.assign(std::size_t(n) * W, 0.0);
    r.dx.assign(std::size_t(n) * W, 0.0);
    const gflow::pass p{n, nullptr, 0};
    I::forward(p, w.data(), a.data(), x.data(), r.y.data());
    I::backward(p, w.data(), dw.data(), a.data(), x.data(), r.y.data(), dy.data(), r.dx.data());
    for (const auto& d : params)
        r.dw[d.name] = std::vector<double>(dw.begin() + d.offset, dw.begin() + d.offset + d.rows * d.cols);
    r.decoded.assign(std::size_t(n) * W, 0.0);
    for (int t = 0; t < n; ++t)
        I::decode(gflow::pass{1, nullptr, t}, w.data(), a.data(), state.data(), x.data() + t * W,
                  r.decoded.data() + t * W);
    return r;
}
}  // namespace

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(decltype(scaled), sizes, 6, 1);
    GFLOW_CHECK_TERM_GRADIENT(decltype(scaled_window), sizes, 6, 2);
    GFLOW_CHECK_TERM_GRADIENT(decltype(small_window), sizes, 6, 3);
    GFLOW_CHECK_TERM_GRADIENT(decltype(weighted::weighted_mixer), names_dims, 16, 4);
}

BOOST_AUTO_TEST_CASE(decoding_equals_the_forward_pass) {
    const double bound = gflow::testing::rounding_error(64, 1.0);
    BOOST_TEST((decode_difference<decltype(scaled_window), sizes, 6>(9, 11) <= bound));
    BOOST_TEST((decode_difference<decltype(small_window), sizes, 6>(9, 12) <= bound));
    BOOST_TEST((decode_difference<decltype(weighted::weighted_mixer), names_dims, 16>(16, 13) <= bound));
    BOOST_TEST((decode_difference<decltype(weighted::weighted_mixer), names_dims, 16>(5, 14) <= bound));
}

BOOST_AUTO_TEST_CASE(the_parameters_are_the_grassmann_mixers_and_one_weight_per_offset) {
    using I = gflow::bind<decltype(weighted::weighted_mixer), names_dims, 16>;
    using G = gflow::bind<decltype(names::grassmann_mixer), names_dims, 16>;
    static_assert(I::param_size == G::param_size + 6);
    std::vector<std::string> names;
    I::for_each_param([&](const gflow::param_desc& p) { names.push_back(p.name); }, 0, "");
    const std::vector<std::string> expected{"W_red", "a_1", "a_2", "a_4", "a_8", "a_12", "a_16",
                                            "W_plu", "W_gate_h", "W_gate_g"};
    BOOST_TEST(names == expected);
    // the pattern of the fused Plücker node is not this one: the window runs node by node
    static_assert(I::graph::K > G::graph::K);
}

BOOST_AUTO_TEST_CASE(with_every_weight_zero_it_is_the_grassmann_mixer) {
    // grassmann<4> is the same expression with the plain mean, which the fused Plücker node runs.
    // a_δ = 0: (1 + a_δ) p̂ is p̂ exactly; the separate nodes and the fused one group the
    // normalisation's sums differently, so outputs and gradients of size ~1 agree to rounding
    using New = gflow::bind<decltype(weighted::weighted_mixer), names_dims, 16>;
    using Old = gflow::bind<decltype(names::grassmann_mixer), names_dims, 16>;
    for (const int n : {16, 7}) {
        gflow::rng gen(20 + n);
        std::map<std::string, std::vector<double>> weights;
        Old::for_each_param([&](const gflow::param_desc& p) {
            auto& v = weights[p.name];
            for (int i = 0; i < p.rows * p.cols; ++i) v.push_back(0.5 * gen.normal());
        }, 0, "");
        std::vector<double> x(std::size_t(n) * 16), dy(x.size());
        for (auto& v : x) v = gen.normal();
        for (auto& v : dy) v = gen.normal();
        const run a = run_term<Old>(weights, x, dy, n), b = run_term<New>(weights, x, dy, n);
        const double bound = gflow::testing::rounding_error(64, 1.0);
        BOOST_TEST_MESSAGE(fmt::format("n = {}: y {:.2e}, dx {:.2e}, decoded {:.2e}", n, relative_difference(b.y, a.y),
                                       relative_difference(b.dx, a.dx), relative_difference(b.decoded, a.decoded)));
        BOOST_TEST(relative_difference(b.y, a.y) <= bound);
        BOOST_TEST(relative_difference(b.dx, a.dx) <= bound);
        BOOST_TEST(relative_difference(b.decoded, a.decoded) <= bound);
        for (const auto& [name, g] : a.dw) BOOST_TEST(relative_difference(b.dw.at(name), g) <= bound, name);
        // and the weights have gradients of their own, da_δ = Σ_t dp̄_t · p̂_δ,t / |D_t|, wherever
        // offset δ exists (t - δ >= 0 for some t < n; never for δ >= n)
        for (const int delta : {1, 2, 4, 8, 12, 16}) {
            const std::string name = fmt::format("a_{}", delta);
            BOOST_TEST((b.dw.at(name)[0] != 0.0) == (delta < n), name);
        }
    }
}

// The names model (docs/benchmarks.md#names) with the new mixer, through the checks of
// tests/model/: the whole gradient against finite differences (check_network), decoding one token
// at a time against the sequence forward, training, sampling, and batches of unequal documents.
#define GFLOW_TEST_MODEL names::model(weighted::weighted_mixer)
#include "../model/model_checks.hpp"
#include "../model/batch_checks.hpp"

BOOST_AUTO_TEST_CASE(a_names_model_with_it_is_named_per_layer) {
    static_assert(gflow::mixer<std::remove_cvref_t<decltype(weighted::weighted_mixer)>, names_dims, 16>);
    static_assert(GFLOW_TEST_MODEL.parameter_count() == names::model(names::grassmann_mixer).parameter_count() + 6);
    const auto params = GFLOW_TEST_MODEL.parameters();
    BOOST_TEST(params[3].name == "layer0.a_1");
}
