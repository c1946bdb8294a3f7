// gflow/terms/repeat.hpp: repeat<N>(body): N layers of the same structure, each with its own
// parameters, named layer0., layer1., ... The body is bound once and looped over at run time
// with offsets, so N layers cost no extra template depth or compile time.
//
// Memory plan: [N body blocks][values of the N-1 layer boundaries][their gradients], each [T][W].
#pragma once
#include <string>

#include <fmt/format.h>

#include <gflow/core/kernels.hpp>
#include <gflow/core/memory.hpp>
#include <gflow/core/term.hpp>

namespace gflow {

template <int N, term Body>
struct repeat_t : term_base {
    static constexpr bool handles_batches = true;   // a composite: passes a batch's rows on
    static_assert(N >= 1, "gflow::repeat<N>: N must be at least 1");
    template <dims C, int W>
    struct impl {
        using body = bind<Body, C, W>;
        static_assert(body::out_width == W,
                      "gflow::repeat: the repeated body must keep the width of its input");
        static constexpr int in_width = W, out_width = W;
        static constexpr std::size_t layer_params = body::param_size;
        // kept: [N layers' kept blocks][the N-1 layer boundaries, [B·T][W] each];
        // scratch: [the boundaries' gradients][the layers' scratch, one layer at a time]
        static constexpr std::size_t layer_acts = kept_of<body>();
        static constexpr std::size_t boundary = std::size_t(C.rows()) * W;   // [B·T][W]
        static constexpr std::size_t boundaries = N * layer_acts;
        static constexpr std::size_t param_size = N * layer_params;
        static constexpr std::size_t state_size = N * body::state_size;
        static constexpr std::size_t kept_size = boundaries + (N - 1) * boundary;
        static constexpr std::size_t own_scratch = (N - 1) * boundary;
        static constexpr std::size_t scratch_size = own_scratch + scratch_of<body>();
        static constexpr std::size_t act_size = kept_size + scratch_size;
        static constexpr flop_count flops(long length) { return flops_of<body>(length) * N; }

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            for (int l = 0; l < N; ++l)
                body::for_each_param(f, offset + l * layer_params, fmt::format("{}layer{}.", prefix, l));
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, fmt::format("repeat {} layer{} (layer0. .. layer{}.)", N, N == 1 ? "" : "s", N - 1), W,
                            W, param_size, kept_size, scratch_size,
                            N > 1 ? fmt::format("{} layer boundaries [B·T][{}]; scratch: their gradients", N - 1, W)
                                  : std::string()});
            body::summarize(rows, depth + 1);
        }

        template <class S>
        static void forward(const pass& p, const S* w, S* a, const S* x, S* y) {
            const pass q = inner(p, scratch_area(p, a, kept_size) + own_scratch);
            for (int l = 0; l < N; ++l)
                body::forward(q, w + l * layer_params, a + l * layer_acts, in(a, x, l), out(a, y, l));
        }
        template <class S>
        static void backward(const pass& p, const S* w, S* dw, S* a, const S* x, const S* y,
                             const S* dy, S* dx) {
            S* grads = scratch_area(p, a, kept_size);   // [N-1][B·T][W], then the layers' scratch
            const pass q = inner(p, grads + own_scratch);
            for (int l = N - 1; l >= 0; --l) {
                const S* d_out = (l == N - 1) ? dy : grads + l * boundary;
                S* d_in = dx;
                if (l > 0) {
                    d_in = grads + (l - 1) * boundary;
                    kernels::zero(d_in, p.n * W);
                }
                body::backward(q, w + l * layer_params, dw + l * layer_params, a + l * layer_acts,
                               in(a, x, l), out(a, y, l), d_out, d_in);
            }
        }
        template <class S>
        static void decode(const pass& p, const S* w, S* a, S* state, const S* x, S* y) {
            const pass q = inner(p, scratch_area(p, a, kept_size) + own_scratch);
            for (int l = 0; l < N; ++l)
                body::decode(q, w + l * layer_params, a + l * layer_acts, state + l * body::state_size,
                             in(a, x, l), out(a, y, l));
        }

    private:
        template <class S>
        static const S* in(S* a, const S* x, int l) { return l == 0 ? x : a + boundaries + (l - 1) * boundary; }
        template <class S, class Out>   // Out: S* in forward, const S* in backward
        static Out out(S* a, Out y, int l) { return l == N - 1 ? y : a + boundaries + l * boundary; }
    };
};

template <int N, term Body>
constexpr repeat_t<N, Body> repeat(Body) { return {}; }

}  // namespace gflow
