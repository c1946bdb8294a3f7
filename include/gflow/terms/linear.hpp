// gflow/terms/linear.hpp: y = W x with W stored [out][in] under a name (no bias, as in the models of
// docs/benchmarks.md#model),
// and the output head lm_head (V x d).
#pragma once
#include <gflow/core/kernels.hpp>
#include <gflow/core/term.hpp>

namespace gflow::terms {

namespace detail {
// A named dense map In -> Out: the one implementation behind linear<> and lm_head.
template <dims C, int In, int Out, fixed_string Name>
struct dense : position_wise<dense<C, In, Out, Name>> {
    static_assert(In > 0, "gflow::linear: needs an input vector (it cannot start a model)");
    static constexpr int in_width = In, out_width = Out;
    static constexpr std::size_t param_size = std::size_t(Out) * In;   // W: [Out][In]
    static constexpr std::size_t act_size = 0;
    static constexpr flop_count flops(long length) { return product_flops(length, In, Out); }

    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        f(param_desc{prefix + std::string(Name.view()), Out, In, offset});
    }
    static void summarize(std::vector<summary_row>& rows, int depth) {
        rows.push_back({depth, std::string(Name.view()), In, Out, param_size, 0});
    }
    template <class S>
    static void forward(const pass& p, const S* w, S*, const S* x, S* y) {
        kernels::matvec_rows<Out, In>(w, x, y, p.n);
    }
    template <class S>
    static void backward(const pass& p, const S* w, S* dw, S*, const S* x, const S*, const S* dy,
                         S* dx) {
        kernels::matvec_rows_backward<Out, In>(w, dw, x, dy, dx, p.n);
    }
};
}  // namespace detail

template <int Out, fixed_string Name>
struct linear_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    static_assert(Out > 0, "gflow::linear<Out>: the output width must be positive");
    template <dims C, int W>
    using impl = detail::dense<C, W, Out, Name>;
};

// linear<32, "W_up">: a named map to width 32.
template <int Out, fixed_string Name = "W">
inline constexpr linear_t<Out, Name> linear{};

// The output head: width d -> vocabulary logits.
struct lm_head_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    template <dims C, int W>
    using impl = detail::dense<C, W, C.vocab, "lm_head">;
};
inline constexpr lm_head_t lm_head{};

}  // namespace gflow::terms
