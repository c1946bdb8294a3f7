// gflow/terms/embedding.hpp: token embedding wte [V][d] and position embedding wpe [T][d].
// They start a model: they read the pass's tokens and positions, not an input vector.
#pragma once
#include <gflow/core/kernels.hpp>
#include <gflow/core/term.hpp>

namespace gflow::terms {

struct token_embedding_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    template <dims C, int W>
    struct impl : position_wise<impl<C, W>> {
        // In the class itself, so that binding the term (reading its widths) checks it.
        static_assert(W == 0, "gflow::token_embedding: an embedding reads tokens, so it must start the model "
                              "(it cannot follow a term that gives vectors)");
        static constexpr int in_width = 0, out_width = C.width;
        static constexpr std::size_t param_size = std::size_t(C.vocab) * C.width;   // wte: [V][d]
        static constexpr std::size_t act_size = 0;

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            f(param_desc{prefix + "wte", C.vocab, C.width, offset});
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, "token_embedding (wte)", 0, C.width, param_size, 0});
        }
        template <class S>
        static void forward(const pass& p, const S* w, S*, const S*, S* y) {
            for (int t = 0; t < p.n; ++t) {
                const S* row = w + p.tokens[t] * C.width;
                S* yt = y + t * C.width;
                GFLOW_SIMD
                for (int i = 0; i < C.width; ++i) yt[i] = row[i];
            }
        }
        template <class S>
        static void backward(const pass& p, const S*, S* dw, S*, const S*, const S*, const S* dy,
                             S*) {
            for (int t = 0; t < p.n; ++t)
                kernels::add_into<C.width>(dw + p.tokens[t] * C.width, dy + t * C.width, 1);
        }
    };
};

struct position_embedding_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    template <dims C, int W>
    struct impl : position_wise<impl<C, W>> {
        static_assert(W == 0, "gflow::position_embedding: an embedding reads positions, so it must start the model "
                              "(it cannot follow a term that gives vectors)");
        static constexpr int in_width = 0, out_width = C.width;
        static constexpr std::size_t param_size = std::size_t(C.block) * C.width;   // wpe: [T][d]
        static constexpr std::size_t act_size = 0;

        template <class F>
        static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
            f(param_desc{prefix + "wpe", C.block, C.width, offset});
        }
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, "position_embedding (wpe)", 0, C.width, param_size, 0});
        }
        template <class S>
        static void forward(const pass& p, const S* w, S*, const S*, S* y) {
            // one sequence from p.first_position; a batch: positions 0..T-1 in each sequence's rows
            const S* rows = w + p.first_position * C.width;
            const int count = (p.batch == 1 ? p.n : C.block) * C.width;
            for (int b = 0; b < p.batch; ++b) {
                S* yb = y + std::size_t(b) * count;
                GFLOW_SIMD
                for (int i = 0; i < count; ++i) yb[i] = rows[i];
            }
        }
        template <class S>
        static void backward(const pass& p, const S*, S* dw, S*, const S*, const S*, const S* dy,
                             S*) {
            if (p.batch == 1) return kernels::add_into<C.width>(dw + p.first_position * C.width, dy, p.n);
            for (int b = 0; b < p.batch; ++b)   // the rows past a sequence's end have no gradient
                kernels::add_into<C.width>(dw, dy + std::size_t(b) * C.block * C.width, p.lengths[b]);
        }
    };
};

inline constexpr token_embedding_t token_embedding{};
inline constexpr position_embedding_t position_embedding{};

}  // namespace gflow::terms
