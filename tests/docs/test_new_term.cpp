// docs/index.md's example of new terms, written as a user would, each with its gradient test:
// an elementwise term (one line; its derivative is generated) and a term with a parameter (its
// backward written by hand beside its forward). gflow::testing::check_term holds both to finite
// differences, as tests/terms/ does for every term of the library.
#define BOOST_TEST_MODULE docs_new_term
#include <boost/test/unit_test.hpp>

#include <gflow/gflow.hpp>
#include <gflow/testing/gradient_check.hpp>

namespace user {
using namespace gflow::terms;

// swish(x) = x sigmoid(x): the function, written once for scalars and dual numbers alike.
constexpr auto swish = elementwise<"swish">([](auto x) { return x * sigmoid(x); });

// y = gain ⊙ x, a learned gain per feature.
struct gain_t : gflow::term_base {
    template <gflow::dims C, int W>
    struct impl : gflow::position_wise<impl<C, W>> {   // decoding one token = forward on one row
        static constexpr int in_width = W, out_width = W;
        static constexpr std::size_t param_size = W;     // gain: [1][d]
        static constexpr std::size_t act_size = 0;       // backward needs only x and dy

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            f(gflow::param_desc{prefix + "gain", 1, W, offset});
        }
        static void summarize(std::vector<gflow::summary_row>& rows, int depth) {
            rows.push_back({depth, "gain", W, W, param_size, act_size});
        }
        template <class S>
        static void forward(const gflow::pass& p, const S* w, S*, const S* x, S* y) {
            for (int t = 0; t < p.n; ++t)
                for (int i = 0; i < W; ++i) y[t * W + i] = w[i] * x[t * W + i];
        }
        // A backward accumulates (+=): dgain += dy ⊙ x, dx += dy ⊙ gain.
        template <class S>
        static void backward(const gflow::pass& p, const S* w, S* dw, S*, const S* x, const S*, const S* dy,
                             S* dx) {
            for (int t = 0; t < p.n; ++t)
                for (int i = 0; i < W; ++i) {
                    dw[i] += dy[t * W + i] * x[t * W + i];
                    dx[t * W + i] += dy[t * W + i] * w[i];
                }
        }
    };
};
inline constexpr gain_t gain{};

}  // namespace user

BOOST_AUTO_TEST_CASE(new_terms_have_the_right_gradients) {
    constexpr gflow::dims sizes{5, 6, 8};   // vocabulary, block, width: small, so the check is fast
    for (const auto& report : {gflow::testing::check_term<decltype(user::swish), sizes, 8>(/*seed*/ 1),
                               gflow::testing::check_term<user::gain_t, sizes, 8>(/*seed*/ 2)}) {
        BOOST_TEST(report.checked > 0u);
        BOOST_TEST(report.max_relative_error <= 1e-6, report.worst);
    }
}

BOOST_AUTO_TEST_CASE(new_terms_drop_into_a_model) {
    using namespace gflow::terms;
    constexpr auto m = gflow::model<vocab<27>, block<16>, width<16>>(
        (token_embedding + position_embedding) >> user::gain >> rmsnorm
        >> residual(ffn<4>(user::swish)) >> lm_head);
    static_assert(m.parameter_count() == 27 * 16 + 16 * 16 + 16 + 2 * 64 * 16 + 27 * 16);
    BOOST_TEST(m.parameters()[2].name == "gain");
}
