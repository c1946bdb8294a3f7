// The mixers written as expressions equal the hand-written ones: outputs, every gradient and the
// decoded outputs, in f64, to 1e-12 of each quantity's largest entry, on the same weights.
#define BOOST_TEST_MODULE expr_mixers_equal
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gflow/core/blas.hpp>
#include <gflow/random.hpp>
#include <gflow/terms/attention.hpp>
#include <gflow/terms/expression_mixers.hpp>
#include <gflow/terms/grassmann_paper.hpp>

using namespace gflow::terms;

namespace {
double max_abs(const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m = std::max(m, std::abs(x));
    return m;
}
double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
    return m / std::max(max_abs(b), 1e-300);
}

struct run {
    std::vector<double> y, dx, decoded;
    std::map<std::string, std::vector<double>> dw;
};

// Forward, backward (dy random) and decoding position by position, with the weights given by name.
template <class I>
run run_term(const std::map<std::string, std::vector<double>>& weights, const std::vector<double>& x,
             const std::vector<double>& dy, int n) {
    constexpr int W = I::in_width;
    std::vector<double> w(I::param_size), dw(I::param_size, 0.0), a(I::act_size + 1, 0.0),
        state(I::state_size + 1, 0.0);
    std::vector<gflow::param_desc> params;
    I::for_each_param([&](const gflow::param_desc& p) { params.push_back(p); }, 0, "");
    for (const auto& p : params) std::copy(weights.at(p.name).begin(), weights.at(p.name).end(), w.begin() + p.offset);
    run r;
    r.y.assign(std::size_t(n) * W, 0.0);
    r.dx.assign(std::size_t(n) * W, 0.0);
    const gflow::pass p{n, nullptr, 0};
    I::forward(p, w.data(), a.data(), x.data(), r.y.data());
    I::backward(p, w.data(), dw.data(), a.data(), x.data(), r.y.data(), dy.data(), r.dx.data());
    for (const auto& d : params)
        r.dw[d.name] = std::vector<double>(dw.begin() + d.offset, dw.begin() + d.offset + d.rows * d.cols);
    r.decoded.assign(std::size_t(n) * W, 0.0);
    std::fill(a.begin(), a.end(), 0.0);
    for (int t = 0; t < n; ++t)
        I::decode(gflow::pass{1, nullptr, t}, w.data(), a.data(), state.data(), x.data() + t * W,
                  r.decoded.data() + t * W);
    return r;
}

template <class Old, class New, gflow::dims C, int W>
void check_equal(int n, std::uint64_t seed) {
    using O = gflow::bind<Old, C, W>;
    using N = gflow::bind<New, C, W>;
    static_assert(O::param_size == N::param_size);
    gflow::rng gen(seed);
    std::map<std::string, std::vector<double>> weights;
    std::vector<std::string> old_names, new_names;
    O::for_each_param([&](const gflow::param_desc& p) {
        old_names.push_back(p.name);
        auto& v = weights[p.name];
        for (int i = 0; i < p.rows * p.cols; ++i) v.push_back(0.5 * gen.normal());
    }, 0, "");
    N::for_each_param([&](const gflow::param_desc& p) { new_names.push_back(p.name); }, 0, "");
    BOOST_TEST(old_names == new_names, "the same parameters, in the same order");
    std::vector<double> x(std::size_t(n) * W), dy(std::size_t(n) * W);
    for (auto& v : x) v = gen.normal();
    for (auto& v : dy) v = gen.normal();
    const run a = run_term<O>(weights, x, dy, n), b = run_term<N>(weights, x, dy, n);
    const double y = relative_difference(b.y, a.y), dx = relative_difference(b.dx, a.dx),
                 decoded = relative_difference(b.decoded, a.decoded);
    BOOST_TEST_MESSAGE(fmt::format("n = {}: y {:.2e}, dx {:.2e}, decoded {:.2e}", n, y, dx, decoded));
    BOOST_TEST(y <= 1e-12);
    BOOST_TEST(dx <= 1e-12);
    BOOST_TEST(decoded <= 1e-12);
    BOOST_TEST(relative_difference(a.decoded, a.y) <= 1e-12, "the hand-written term decodes as it runs");
    for (const auto& [name, g] : a.dw) {
        const double e = relative_difference(b.dw.at(name), g);
        BOOST_TEST_MESSAGE(fmt::format("  d{} {:.2e}", name, e));
        BOOST_TEST(e <= 1e-12, name);
    }
}

constexpr gflow::dims names_dims{27, 16, 16};
constexpr gflow::dims wide_dims{65, 40, 32};
}  // namespace

BOOST_AUTO_TEST_CASE(grassmann_equals_the_hand_written_term) {
    constexpr auto window = offsets<1, 2, 4, 8, 12, 16>;
    check_equal<decltype(grassmann<4>(window)), decltype(grassmann_expression<4>(window)), names_dims, 16>(16, 1);
    check_equal<decltype(grassmann<4>(window)), decltype(grassmann_expression<4>(window)), names_dims, 16>(7, 2);
    check_equal<decltype(grassmann<8>(offsets<1, 3>)), decltype(grassmann_expression<8>(offsets<1, 3>)),
                wide_dims, 32>(40, 3);
}

BOOST_AUTO_TEST_CASE(grassmann_paper_equals_the_hand_written_term) {
    constexpr auto window = offsets<1, 2, 4>;
    check_equal<decltype(grassmann_paper<4>(window)), decltype(grassmann_paper_expression<4>(window)),
                names_dims, 16>(16, 4);
    check_equal<decltype(grassmann_paper<4, plucker_norm::smooth>(window)),
                decltype(grassmann_paper_expression<4, plucker_norm::smooth>(window)), names_dims, 16>(9, 5);
    check_equal<decltype(grassmann_paper<8>(offsets<2, 5>)), decltype(grassmann_paper_expression<8>(offsets<2, 5>)),
                wide_dims, 32>(40, 6);
}

BOOST_AUTO_TEST_CASE(attention_equals_the_hand_written_term) {
    check_equal<attention_t<4>, std::remove_cvref_t<decltype(attention_expression<4>)>, names_dims, 16>(16, 7);
    check_equal<attention_t<4>, std::remove_cvref_t<decltype(attention_expression<4>)>, names_dims, 16>(5, 8);
    check_equal<attention_t<2>, std::remove_cvref_t<decltype(attention_expression<2>)>, wide_dims, 32>(40, 9);
    // the products through the BLAS (where it is built in)
    gflow::blas::min_work() = 0;
    check_equal<attention_t<2>, std::remove_cvref_t<decltype(attention_expression<2>)>, wide_dims, 32>(40, 10);
    check_equal<decltype(grassmann<8>(offsets<1, 3>)), decltype(grassmann_expression<8>(offsets<1, 3>)),
                wide_dims, 32>(40, 11);
}
