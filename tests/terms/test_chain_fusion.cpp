// Adjacent elementwise terms of a chain are bound as one term (terms/chain.hpp): the same values
// as the terms run one by one, one loop each way, and none of the run's intermediates kept.
#define BOOST_TEST_MODULE terms_chain_fusion
#include "term_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <type_traits>
#include <vector>

#include <gflow/random.hpp>
#include <gflow/terms/chain.hpp>
#include <gflow/terms/elementwise.hpp>
#include <gflow/terms/ffn.hpp>
#include <gflow/terms/gelu.hpp>
#include <gflow/terms/linear.hpp>
#include <gflow/testing/tolerance.hpp>

using namespace gflow::terms;
using gflow::bind;
using gflow::term_list;

constexpr gflow::dims sizes{5, 6, 8};
constexpr gflow::dims batched{5, 6, 8, 3};   // 3 sequences: 18 rows
constexpr int width = 8;

constexpr auto swish = elementwise<"swish">([](auto x) { return x * sigmoid(1.702 * x); });
using swish_t = std::remove_cvref_t<decltype(swish)>;
constexpr auto softplus = elementwise<"softplus">([](auto x) { return log(1 + exp(x)); });
using run = decltype(swish >> relu >> gelu);
using A = linear_t<width, "A">;
using B = linear_t<width, "B">;
using framed = decltype(linear<width, "A"> >> swish >> relu >> gelu >> linear<width, "B">);

// The reference: the same terms bound one by one and run by chain_impl, which takes bound terms
// as they are; the fusion is in chain_t's binding.
template <gflow::dims C, class... Ts>
using unfused = gflow::chain_impl<C, gflow::impl_list<bind<Ts, C, width>...>>;

namespace {
// Forward and backward through the fused chain and through the reference, on the same parameters,
// inputs and output gradient. The fused chain's activation block [act_size] is followed by a
// guard of sentinels, which must come back untouched: its smaller plan is all it uses.
template <class S, class Fused, class Unfused>
struct both {
    static_assert(Fused::param_size == Unfused::param_size);
    static constexpr int n = sizes.block, count = n * width;
    static constexpr std::size_t guard = 64;
    static constexpr S sentinel = S(-12345.5);
    std::vector<S> w = std::vector<S>(Fused::param_size), x, dy, fused_y, unfused_y, fused_dx, unfused_dx;
    std::vector<S> fused_dw = std::vector<S>(Fused::param_size), unfused_dw = std::vector<S>(Fused::param_size);
    std::vector<S> fused_a = std::vector<S>(Fused::act_size + guard, sentinel);   // [act_size + guard]
    std::vector<S> unfused_a = std::vector<S>(Unfused::act_size);                 // [act_size]
    gflow::pass p{n, nullptr, 0};

    explicit both(std::uint64_t seed) : x(count), dy(count), fused_y(count), unfused_y(count), fused_dx(count),
                                         unfused_dx(count) {
        gflow::rng gen(seed);
        for (auto& v : w) v = S(0.5 * gen.normal());
        for (auto& v : x) v = S(2 * gen.normal());
        for (auto& v : dy) v = S(gen.normal());
        Fused::forward(p, w.data(), fused_a.data(), x.data(), fused_y.data());
        Unfused::forward(p, w.data(), unfused_a.data(), x.data(), unfused_y.data());
        Fused::backward(p, w.data(), fused_dw.data(), fused_a.data(), x.data(), fused_y.data(), dy.data(),
                        fused_dx.data());
        Unfused::backward(p, w.data(), unfused_dw.data(), unfused_a.data(), x.data(), unfused_y.data(), dy.data(),
                          unfused_dx.data());
    }
    bool guard_untouched() const {
        for (std::size_t i = Fused::act_size; i < fused_a.size(); ++i)
            if (fused_a[i] != sentinel) return false;
        return true;
    }
};

template <class S>
using swish_relu_gelu = both<S, bind<run, sizes, width>, unfused<sizes, swish_t, relu_t, gelu_t>>;
using framed_both = both<double, bind<framed, sizes, width>, unfused<sizes, A, swish_t, relu_t, gelu_t, B>>;

std::size_t summary_rows(auto summarize) {
    std::vector<gflow::summary_row> rows;
    summarize(rows, 0);
    return rows.size();
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_maximal_run_of_elementwise_terms_is_one_term) {
    static_assert(std::is_same_v<run::fused, term_list<fused_elementwise_t<swish_t, relu_t, gelu_t>>>);
    static_assert(std::is_same_v<framed::fused, term_list<A, fused_elementwise_t<swish_t, relu_t, gelu_t>, B>>);
    // a run of one stays as it is; runs apart stay apart
    using apart = decltype(relu >> linear<width, "A"> >> relu >> gelu >> linear<width, "B"> >> gelu);
    static_assert(std::is_same_v<apart::fused, term_list<relu_t, A, fused_elementwise_t<relu_t, gelu_t>, B, gelu_t>>);
    using single = decltype(linear<width, "A"> >> relu >> linear<width, "B">);
    static_assert(std::is_same_v<single::fused, term_list<A, relu_t, B>>);
    // what runs: one bound term where three were written
    BOOST_TEST(summary_rows(&bind<run, sizes, width>::summarize) == 1u);
    BOOST_TEST(summary_rows(&unfused<sizes, swish_t, relu_t, gelu_t>::summarize) == 3u);
}

BOOST_AUTO_TEST_CASE(the_run_s_intermediates_leave_the_memory_plan) {
    // 5 terms unfused: 4 intermediates [rows][8], values and gradients; fused: 3 terms, 2 of them.
    // The difference is the two intermediates inside the run, swish -> relu and relu -> gelu.
    using I = bind<framed, sizes, width>;
    using U = unfused<sizes, A, swish_t, relu_t, gelu_t, B>;
    static_assert(U::act_size == 2 * 4 * std::size_t(sizes.rows()) * width);
    static_assert(I::act_size == 2 * 2 * std::size_t(sizes.rows()) * width);
    static_assert(U::act_size - I::act_size == bind<fused_elementwise_t<swish_t, relu_t, gelu_t>, sizes, width>::saved);
    // a batch's rows: the saving is per row
    static_assert(unfused<batched, A, swish_t, relu_t, gelu_t, B>::act_size - bind<framed, batched, width>::act_size ==
                  2 * 2 * std::size_t(batched.rows()) * width);
    // inside an ffn the activation may itself be a run: ffn<4>(relu >> gelu) keeps what ffn<4>(relu) keeps
    static_assert(bind<ffn_t<4, decltype(relu >> gelu)>, sizes, width>::act_size ==
                  bind<ffn_t<4, relu_t>, sizes, width>::act_size);
    // and the smaller plan is enough: forward and backward write nothing past it
    const framed_both d(21);
    BOOST_TEST(d.guard_untouched());
}

BOOST_AUTO_TEST_CASE(the_summary_shows_the_group_and_what_it_saves) {
    std::vector<gflow::summary_row> rows;
    bind<framed, sizes, width>::summarize(rows, 0);
    BOOST_TEST_REQUIRE(rows.size() == 3u);
    const std::size_t saved =
        unfused<sizes, A, swish_t, relu_t, gelu_t, B>::act_size - bind<framed, sizes, width>::act_size;
    BOOST_TEST(rows[1].label ==
               "swish >> relu >> gelu [one fused loop; saves " + std::to_string(saved) + " activation scalars]");
    BOOST_TEST(rows[1].activations == 0u);
}

BOOST_AUTO_TEST_CASE(forward_is_the_unfused_one_bit_for_bit) {
    // f32 too: there swish's scalar form computes in double (1.702 * x), and each stage must be
    // rounded to float before the next, as the unfused chain's buffer rounds it.
    const swish_relu_gelu<double> d(11);
    const swish_relu_gelu<float> f(12);
    const framed_both between(14);   // between two products: the same products, the same run
    int positive = 0;
    for (int i = 0; i < d.count; ++i) {
        BOOST_TEST(d.fused_y[i] == d.unfused_y[i], "f64 output " << i);
        BOOST_TEST(f.fused_y[i] == f.unfused_y[i], "f32 output " << i);
        BOOST_TEST(between.fused_y[i] == between.unfused_y[i], "f64 output between products " << i);
        positive += d.fused_y[i] > 0;
    }
    BOOST_TEST(positive > d.count / 4);   // both sides of relu's kink are exercised
    BOOST_TEST(positive < d.count);
    BOOST_TEST(d.guard_untouched());
    BOOST_TEST(f.guard_untouched());
}

BOOST_AUTO_TEST_CASE(backward_is_the_unfused_one_to_rounding) {
    const swish_relu_gelu<double> d(13);
    // dx = dy · gelu′(v2) · relu′(v1) · swish′(x), v1 = swish(x), v2 = relu(v1). Both sides form
    // swish′ by the same dual evaluation (seeded 1), and relu passes a tangent on or zeroes it,
    // exactly. What differs, counted in roundings: fused, gelu's dual carries the tangent swish′
    // through x/√2, erf′ times it, the product rule's two products and their sum (5), then dy times
    // it (1); unfused, gelu′ alone (erf′ times 1/√2, two products, a sum: 4), dy times it and that
    // times swish′ (2). 12 in all, of numbers no larger than |dy| (Φ + v φ) |swish′|: the product
    // rule's two terms have one sign (v ≥ 0 after relu), and swish′ = s + 1.702 x s (1 − s) is
    // bounded by its terms' absolute values.
    int checked = 0;
    double worst = 0;
    for (int i = 0; i < d.count; ++i) {
        const double x = d.x[i];
        const double s = 1 / (1 + std::exp(-1.702 * x));
        const double v1 = x * s, v2 = v1 > 0 ? v1 : 0;
        const double swish_abs = s + 1.702 * std::abs(x) * s * (1 - s);
        const double phi = std::exp(-v2 * v2 / 2) / std::sqrt(2 * std::numbers::pi);
        const double gelu_abs = 0.5 * (1 + std::erf(v2 / std::numbers::sqrt2)) + v2 * phi;
        const double magnitude = std::abs(d.dy[i]) * gelu_abs * (v1 > 0 ? 1.0 : 0.0) * swish_abs;
        BOOST_TEST(std::abs(d.fused_dx[i] - d.unfused_dx[i]) <= gflow::testing::rounding_error(12, magnitude),
                   "dx[" << i << "]: fused " << d.fused_dx[i] << ", unfused " << d.unfused_dx[i]);
        checked += d.unfused_dx[i] != 0;
        if (magnitude > 0)
            worst = std::max(worst, std::abs(d.fused_dx[i] - d.unfused_dx[i]) /
                                        gflow::testing::rounding_error(12, magnitude));
    }
    BOOST_TEST_MESSAGE("largest difference: " << worst << " of the bound");
    BOOST_TEST(checked > d.count / 4);
}

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
    GFLOW_CHECK_TERM_GRADIENT(run, sizes, width, 4);
    GFLOW_CHECK_TERM_GRADIENT(framed, sizes, width, 5);
    GFLOW_CHECK_TERM_GRADIENT(decltype(gelu_tanh >> softplus), sizes, width, 6);
}
