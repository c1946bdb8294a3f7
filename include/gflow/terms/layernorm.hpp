// gflow/terms/layernorm.hpp: LayerNorm with a learned gain and bias (the paper's block,
// docs/benchmarks.md#paper-model), per position over the d features:
//
//   μ = mean_i x_i,   σ² = mean_i (x_i - μ)²        (biased variance, as torch.nn.LayerNorm)
//   x̂ = (x - μ) / sqrt(σ² + 1e-5)
//   y = gain ⊙ x̂ + bias
//
// Backward, with r = 1 / sqrt(σ² + 1e-5) and dx̂ = gain ⊙ dy:
//   dgain += dy ⊙ x̂,   dbias += dy,   dx += r (dx̂ - mean(dx̂) - x̂ mean(dx̂ ⊙ x̂))
//
// Parameter names: layernorm<"ln1"> owns `ln1.gain` [1][d] and `ln1.bias` [1][d] (a name, then
// the tensor's role after a dot, as PyTorch's state dicts write `ln1.weight`); the default name
// is "ln": `ln.gain`, `ln.bias`. Inside repeat<N> they become `layer0.ln1.gain`, ...
#pragma once
#include <cmath>
#include <string>

#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/term.hpp>

namespace gflow::terms {

template <fixed_string Name = "ln">
struct layernorm_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    static constexpr double epsilon = 1e-5;

    template <dims C, int W>
    struct impl : position_wise<impl<C, W>> {
        static_assert(W > 0, "gflow::layernorm: needs an input vector (it cannot start a model)");
        static_assert(W >= 2, "gflow::layernorm: a width of 1 normalises every value to 0 (x - "
                              "mean(x) = 0); LayerNorm needs a width of at least 2");
        static constexpr int in_width = W, out_width = W, T = C.rows();   // T: rows (B·T)

        static constexpr std::size_t gain = 0;                      // [1][d]
        static constexpr std::size_t bias = gain + W;               // [1][d]
        static constexpr std::size_t param_size = bias + W;

        // Saved for backward: x̂ (so backward needs neither x nor a division by the gain, which
        // may be 0) and the inverse standard deviation.
        static constexpr memory_plan memory{kept_buffer("xhat", "[B·T][d]", std::size_t(T) * W),
                                            kept_buffer("inv_std", "[B·T]", std::size_t(T))};
        static constexpr std::size_t xhat = memory.offset("xhat");         // [T][d]
        static constexpr std::size_t inv_std = memory.offset("inv_std");   // [T]
        static constexpr std::size_t act_size = memory.kept_size();

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            const std::string name = prefix + std::string(Name.view());
            f(param_desc{name + ".gain", 1, W, offset + gain});
            f(param_desc{name + ".bias", 1, W, offset + bias});
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, std::string(Name.view()) + ": layernorm (gain, bias)", W, W,
                            param_size, act_size, 0, memory.describe()});
        }

        template <class S>
        static void forward(const pass& p, const S* w, S* a, const S* x, S* y) {
            const S* g = w + gain;   // [d]
            const S* b = w + bias;   // [d]
            for (int t = 0; t < p.n; ++t) {
                const S* xt = x + t * W;   // [d]
                S* ht = a + xhat + t * W;  // [d]
                S* yt = y + t * W;         // [d]
                S acc = 0;
                GFLOW_SIMD_SUM
                for (int i = 0; i < W; ++i) acc += xt[i];
                const S mean = acc / S(W);
                // two passes (mean, then squared deviations): no cancellation when |μ| >> σ
                acc = 0;
                GFLOW_SIMD_SUM
                for (int i = 0; i < W; ++i) acc += (xt[i] - mean) * (xt[i] - mean);
                const S r = S(1) / std::sqrt(acc / S(W) + S(epsilon));
                a[inv_std + t] = r;
                GFLOW_SIMD
                for (int i = 0; i < W; ++i) {
                    ht[i] = (xt[i] - mean) * r;
                    yt[i] = g[i] * ht[i] + b[i];
                }
            }
        }

        template <class S>
        static void backward(const pass& p, const S* w, S* dw, S* a, const S*, const S*,
                             const S* dy, S* dx) {
            const S* g = w + gain;   // [d]
            S* dg = dw + gain;       // [d]
            S* db = dw + bias;       // [d]
            for (int t = 0; t < p.n; ++t) {
                const S* ht = a + xhat + t * W;   // [d]
                const S* dyt = dy + t * W;        // [d]
                S* dxt = dx + t * W;              // [d]
                // mean(dx̂) and mean(dx̂ ⊙ x̂), with dx̂ = gain ⊙ dy formed on the fly
                S sum_d = 0, sum_dh = 0;
                for (int i = 0; i < W; ++i) {
                    const S d = g[i] * dyt[i];
                    sum_d += d;
                    sum_dh += d * ht[i];
                    dg[i] += dyt[i] * ht[i];
                    db[i] += dyt[i];
                }
                const S mean_d = sum_d / S(W), mean_dh = sum_dh / S(W), r = a[inv_std + t];
                GFLOW_SIMD
                for (int i = 0; i < W; ++i) dxt[i] += r * (g[i] * dyt[i] - mean_d - ht[i] * mean_dh);
            }
        }
    };
};

// layernorm<"ln1">: a LayerNorm whose gain and bias are called ln1.gain, ln1.bias.
template <fixed_string Name = "ln">
inline constexpr layernorm_t<Name> layernorm{};

}  // namespace gflow::terms
