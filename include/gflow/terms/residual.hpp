// gflow/terms/residual.hpp: residual(body): y = x + body(x). The input x is used twice (by the
// body and by the skip), so its gradient is the sum dx = dy + body'(x)^T dy, formed once here.
#pragma once
#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/term.hpp>
#include <gflow/terms/chain.hpp>

namespace gflow {

template <term Body>
struct residual_t : term_base {
    static constexpr bool handles_batches = true;   // a composite: passes a batch's rows on
    template <dims C, int W>
    struct impl {
        using body = bind<Body, C, W>;
        static_assert(body::out_width == W,
                      "gflow::residual: the body must keep the width of its input "
                      "(see the widths in the note below: body output == input width)");
        static constexpr int in_width = W, out_width = W;
        static constexpr std::size_t param_size = body::param_size;
        static constexpr std::size_t state_size = body::state_size;
        // kept: [the body's kept block][the body's output [B·T][W]]; scratch: the body's
        static constexpr std::size_t body_out = kept_of<body>();
        static constexpr std::size_t kept_size = body_out + std::size_t(C.rows()) * W;
        static constexpr std::size_t scratch_size = scratch_of<body>();
        static constexpr std::size_t act_size = kept_size + scratch_size;
        static constexpr flop_count flops(long length) { return flops_of<body>(length); }

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            body::for_each_param(f, offset, prefix);
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, "residual: x + body(x)", W, W, param_size, kept_size, scratch_size,
                            fmt::format("body output [B·T][{}]", W)});
            body::summarize(rows, depth + 1);
        }
        template <class S>
        static void forward(const pass& p, const S* w, S* a, const S* x, S* y) {
            body::forward(inner(p, scratch_area(p, a, kept_size)), w, a, x, a + body_out);
            add(x, a + body_out, y, p.n);
        }
        template <class S>
        static void backward(const pass& p, const S* w, S* dw, S* a, const S* x, const S*,
                             const S* dy, S* dx) {
            kernels::add_into<W>(dx, dy, p.n);   // the skip path
            body::backward(inner(p, scratch_area(p, a, kept_size)), w, dw, a, x, a + body_out, dy, dx);
        }
        template <class S>
        static void decode(const pass& p, const S* w, S* a, S* state, const S* x, S* y) {
            body::decode(inner(p, scratch_area(p, a, kept_size)), w, a, state, x, a + body_out);
            add(x, a + body_out, y, p.n);
        }

    private:
        template <class S>
        static void add(const S* x, const S* b, S* y, int n) {
            const int count = n * W;
            GFLOW_SIMD
            for (int i = 0; i < count; ++i) y[i] = x[i] + b[i];
        }
    };
};

template <term Body>
constexpr residual_t<Body> residual(Body) { return {}; }

}  // namespace gflow
