// gflow/terms/affine.hpp: a linear map with a bias (the paper's maps all carry one; the
// microGrassmann models of docs/benchmarks.md use linear<>, without):
//
//   y = W x + b,     W [Out][In], b [Out]
//   backward:  dW += dy xᵀ,   db += dy,   dx += Wᵀ dy
//
// Parameter names, as torch.nn.Linear's state dict: affine<1024, "mlp_fc1"> owns
// `mlp_fc1.weight` [Out][In] and `mlp_fc1.bias` [1][Out] (a vector is stored as one row). The
// default name is "affine".
#pragma once
#include <string>

#include <gflow/core/kernels.hpp>
#include <gflow/core/term.hpp>

namespace gflow::terms {

namespace detail {
// y[t] = W x[t] + b for t < n.   W: [Out][In], b: [Out], x: [n][In], y: [n][Out].
template <int Out, int In, class S>
inline void affine_rows(const S* __restrict W, const S* __restrict b, const S* __restrict x,
                        S* __restrict y, int n) {
    for (int t = 0; t < n; ++t) {
        S* yt = y + t * Out;
        GFLOW_SIMD
        for (int o = 0; o < Out; ++o) yt[o] = b[o];
    }
    kernels::matvec_rows_add<Out, In>(W, x, y, n);
}

// db += sum_t dy[t], the gradient of a bias added to every row.   dy: [n][Out], db: [Out].
template <int Out, class S>
inline void bias_rows_backward(S* __restrict db, const S* __restrict dy, int n) {
    for (int t = 0; t < n; ++t) {
        const S* dyt = dy + t * Out;
        GFLOW_SIMD
        for (int o = 0; o < Out; ++o) db[o] += dyt[o];
    }
}

template <dims C, int In, int Out, fixed_string Name>
struct dense_bias : position_wise<dense_bias<C, In, Out, Name>> {
    static_assert(In > 0, "gflow::affine: needs an input vector (it cannot start a model)");
    static constexpr int in_width = In, out_width = Out;
    static constexpr std::size_t weight = 0;                             // [Out][In]
    static constexpr std::size_t bias = weight + std::size_t(Out) * In;  // [1][Out]
    static constexpr std::size_t param_size = bias + Out;
    static constexpr std::size_t act_size = 0;   // backward needs only x and dy
    static constexpr flop_count flops(long length) { return product_flops(length, In, Out); }

    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        const std::string name = prefix + std::string(Name.view());
        f(param_desc{name + ".weight", Out, In, offset + weight});
        f(param_desc{name + ".bias", 1, Out, offset + bias});
    }
    static void summarize(std::vector<summary_row>& rows, int depth) {
        rows.push_back({depth, std::string(Name.view()) + ": W x + b", In, Out, param_size, 0});
    }
    template <class S>
    static void forward(const pass& p, const S* w, S*, const S* x, S* y) {
        affine_rows<Out, In>(w + weight, w + bias, x, y, p.n);
    }
    template <class S>
    static void backward(const pass& p, const S* w, S* dw, S*, const S* x, const S*, const S* dy,
                         S* dx) {
        kernels::matvec_rows_backward<Out, In>(w + weight, dw + weight, x, dy, dx, p.n);
        bias_rows_backward<Out>(dw + bias, dy, p.n);
    }
};
}  // namespace detail

template <int Out, fixed_string Name>
struct affine_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    static_assert(Out > 0, "gflow::affine<Out>: the output width must be positive");
    template <dims C, int W>
    using impl = detail::dense_bias<C, W, Out, Name>;
};

// affine<1024, "mlp_fc1">: a named map with bias to width 1024.
template <int Out, fixed_string Name = "affine">
inline constexpr affine_t<Out, Name> affine{};

}  // namespace gflow::terms
