// gflow/terms/rmsnorm.hpp: y = x / sqrt(mean(x^2) + 1e-5), no learned gain
// (docs/benchmarks.md#model).
#pragma once
#include <cmath>

#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/term.hpp>

namespace gflow::terms {

struct rmsnorm_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    static constexpr double epsilon = 1e-5;

    template <dims C, int W>
    struct impl : position_wise<impl<C, W>>, no_params {
        static_assert(W > 0, "gflow::rmsnorm: needs an input vector (it cannot start a model)");
        static constexpr int in_width = W, out_width = W;
        // kept for backward: 1 / rms of each row (backward also reads its own output y)
        static constexpr memory_plan memory{kept_buffer("inv_rms", "[B·T]", C.rows())};
        static constexpr std::size_t act_size = memory.kept_size();

        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, "rmsnorm", W, W, 0, act_size, 0, memory.describe()});
        }

        template <class S>
        static void forward(const pass& p, const S*, S* a, const S* x, S* y) {
            S* inv_rms = a + memory.offset("inv_rms");   // [B·T]
            for (int t = 0; t < p.n; ++t) {
                const S* xt = x + t * W;
                // a dot product of fixed order: a row's result is the same in every model that
                // inlines this loop (an `omp simd` sum may be split differently by each)
                const S acc = kernels::dot<W>(xt, xt);
                const S r = S(1) / std::sqrt(acc / S(W) + S(epsilon));
                inv_rms[t] = r;
                S* yt = y + t * W;
                GFLOW_SIMD
                for (int i = 0; i < W; ++i) yt[i] = xt[i] * r;
            }
        }

        // dx = r (dy - y * mean(dy . y))
        template <class S>
        static void backward(const pass& p, const S*, S*, S* a, const S*, const S* y, const S* dy,
                             S* dx) {
            const S* inv_rms = a + memory.offset("inv_rms");   // [B·T]
            for (int t = 0; t < p.n; ++t) {
                const S* yt = y + t * W;
                const S* dyt = dy + t * W;
                S acc = 0;
                GFLOW_SIMD_SUM
                for (int i = 0; i < W; ++i) acc += dyt[i] * yt[i];
                const S mean = acc / S(W), r = inv_rms[t];
                S* dxt = dx + t * W;
                GFLOW_SIMD
                for (int i = 0; i < W; ++i) dxt[i] += r * (dyt[i] - yt[i] * mean);
            }
        }
    };
};

inline constexpr rmsnorm_t rmsnorm{};

}  // namespace gflow::terms
