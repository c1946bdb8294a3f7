// gflow/terms/sum.hpp: a + b, two branches of the same input whose outputs are added
// (token_embedding + position_embedding). Backward gives both branches the same gradient.
#pragma once
#include <algorithm>

#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/term.hpp>

namespace gflow {

template <term A, term B>
struct sum_t : term_base {
    static constexpr bool handles_batches = true;   // a composite: passes a batch's rows on
    template <dims C, int W>
    struct impl {
        using left = bind<A, C, W>;
        using right = bind<B, C, W>;
        static_assert(left::out_width == right::out_width,
                      "gflow: the two sides of '+' must have the same output width");
        static constexpr int in_width = W, out_width = left::out_width;
        static constexpr std::size_t param_size = left::param_size + right::param_size;
        static constexpr std::size_t state_size = left::state_size + right::state_size;
        // kept: [left's kept block][right's][left's output: B·T x out][right's output: B·T x out]
        // (each branch's backward may need its own output, so neither is overwritten by the sum);
        // scratch: the larger of the branches' (they run one after the other)
        static constexpr std::size_t right_block = kept_of<left>();
        static constexpr std::size_t left_out = right_block + kept_of<right>();
        static constexpr std::size_t right_out = left_out + std::size_t(C.rows()) * out_width;
        static constexpr std::size_t kept_size = right_out + std::size_t(C.rows()) * out_width;
        static constexpr std::size_t scratch_size = std::max(scratch_of<left>(), scratch_of<right>());
        static constexpr std::size_t act_size = kept_size + scratch_size;
        static constexpr flop_count flops(long length) { return flops_of<left>(length) + flops_of<right>(length); }

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            left::for_each_param(f, offset, prefix);
            right::for_each_param(f, offset + left::param_size, prefix);
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, "sum of", W, out_width, param_size, kept_size, scratch_size,
                            fmt::format("the two outputs [B·T][{}] each", out_width)});
            left::summarize(rows, depth + 1);
            right::summarize(rows, depth + 1);
        }
        template <class S>
        static void forward(const pass& p, const S* w, S* a, const S* x, S* y) {
            const pass q = inner(p, scratch_area(p, a, kept_size));
            left::forward(q, w, a, x, a + left_out);
            right::forward(q, w + left::param_size, a + right_block, x, a + right_out);
            add(a, y, p.n);
        }
        template <class S>
        static void backward(const pass& p, const S* w, S* dw, S* a, const S* x, const S*,
                             const S* dy, S* dx) {
            const pass q = inner(p, scratch_area(p, a, kept_size));
            left::backward(q, w, dw, a, x, a + left_out, dy, dx);
            right::backward(q, w + left::param_size, dw + left::param_size, a + right_block, x, a + right_out, dy, dx);
        }
        template <class S>
        static void decode(const pass& p, const S* w, S* a, S* state, const S* x, S* y) {
            const pass q = inner(p, scratch_area(p, a, kept_size));
            left::decode(q, w, a, state, x, a + left_out);
            right::decode(q, w + left::param_size, a + right_block, state + left::state_size, x, a + right_out);
            add(a, y, p.n);
        }

    private:
        template <class S>
        static void add(const S* a, S* y, int n) {
            const S* l = a + left_out;
            const S* r = a + right_out;
            const int count = n * out_width;
            GFLOW_SIMD
            for (int i = 0; i < count; ++i) y[i] = l[i] + r[i];
        }
    };
};

template <term A, term B>
constexpr sum_t<A, B> operator+(A, B) { return {}; }

}  // namespace gflow
