// A third mixer, written as a user would outside the library: the causal mean of the previous
// tokens (the "simple averaging" baseline of the tutorial), out_t = W_avg · mean_{s<=t} h_s.
// It meets gflow::mixer, drops into the names model (docs/benchmarks.md#names) in place of
// grassmann or attention, and passes the same whole-model gradient, decoding and batch checks.
#define BOOST_TEST_MODULE model_custom_mixer
#include <gflow/gflow.hpp>

namespace user {

struct causal_mean_t : gflow::term_base {
    template <gflow::dims C, int W>
    struct impl {
        static constexpr int in_width = W, out_width = W, T = C.block;
        static constexpr std::size_t param_size = W * W;            // W_avg: [d][d]
        static constexpr std::size_t act_size = 2 * T * W;          // mean [T][d], its gradient
        static constexpr std::size_t state_size = W + 1;            // running sum, count

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            f(gflow::param_desc{prefix + "W_avg", W, W, offset});
        }
        static void summarize(std::vector<gflow::summary_row>& rows, int depth) {
            rows.push_back({depth, "causal_mean", W, W, param_size, act_size});
        }
        template <class S>
        static void forward(const gflow::pass& p, const S* w, S* a, const S* h, S* y) {
            S sum[W] = {};
            for (int t = 0; t < p.n; ++t)
                for (int i = 0; i < W; ++i) {
                    sum[i] += h[t * W + i];
                    a[t * W + i] = sum[i] / S(t + 1);
                }
            gflow::kernels::matvec_rows<W, W>(w, a, y, p.n);
        }
        template <class S>
        static void backward(const gflow::pass& p, const S* w, S* dw, S* a, const S*, const S*,
                             const S* dy, S* dh) {
            S* dmean = a + T * W;
            gflow::kernels::zero(dmean, p.n * W);
            gflow::kernels::matvec_rows_backward<W, W>(w, dw, a, dy, dmean, p.n);
            S suffix[W] = {};   // dh_s = sum_{t >= s} dmean_t / (t + 1)
            for (int t = p.n - 1; t >= 0; --t)
                for (int i = 0; i < W; ++i) {
                    suffix[i] += dmean[t * W + i] / S(t + 1);
                    dh[t * W + i] += suffix[i];
                }
        }
        template <class S>
        static void decode(const gflow::pass&, const S* w, S* a, S* state, const S* h, S* y) {
            state[W] += 1;
            for (int i = 0; i < W; ++i) {
                state[i] += h[i];
                a[i] = state[i] / state[W];
            }
            gflow::kernels::matvec_rows<W, W>(w, a, y, 1);
        }
    };
};
inline constexpr causal_mean_t causal_mean{};

}  // namespace user

#include "names_model.hpp"
#define GFLOW_TEST_MODEL names::model<2>(user::causal_mean)
#include "model_checks.hpp"
// The mixer has no code for batches: bound into a model with batch<3>, gflow runs it once per
// document, and it passes the batch checks of the library's own mixers.
#include "batch_checks.hpp"

BOOST_AUTO_TEST_CASE(a_user_mixer_meets_the_concept_and_is_named_per_layer) {
    static_assert(gflow::mixer<user::causal_mean_t, gflow::dims{27, 16, 16}, 16>);
    static_assert(!gflow::mixer<gflow::terms::linear_t<8, "W">, gflow::dims{27, 16, 16}, 16>);   // changes the width
    const auto params = GFLOW_TEST_MODEL.parameters();
    BOOST_TEST(params[2].name == "layer0.W_avg");
}
