// gflow/terms/ffn.hpp: ffn<M>(act) = mlp_fc2 · act(mlp_fc1 · x), fc1: (M d) x d, fc2: d x (M d).
#pragma once
#include <gflow/core/term.hpp>
#include <gflow/terms/chain.hpp>
#include <gflow/terms/linear.hpp>

namespace gflow::terms {

template <int M, term Act>
struct ffn_t : term_base {
    static constexpr bool handles_batches = true;   // a composite: passes a batch's rows on
    static_assert(M >= 1, "gflow::ffn<M>: the expansion factor M must be at least 1");
    template <dims C, int W>
    struct impl : chain_impl<C, impl_list<detail::dense<C, W, M * W, "mlp_fc1">, bind<Act, C, M * W>,
                                          detail::dense<C, M * W, W, "mlp_fc2">>> {
        using base = chain_impl<C, impl_list<detail::dense<C, W, M * W, "mlp_fc1">, bind<Act, C, M * W>,
                                             detail::dense<C, M * W, W, "mlp_fc2">>>;
        static_assert(bind<Act, C, M * W>::out_width == M * W,
                      "gflow::ffn: the activation must keep the width");
        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, fmt::format("ffn<{}>", M), W, W, base::param_size, base::kept_size, base::scratch_size,
                            fmt::format("its chain's {} intermediates; scratch: their gradients", base::K - 1)});
            base::summarize(rows, depth + 1);
        }
    };
};

template <int M, term Act>
constexpr ffn_t<M, Act> ffn(Act) { return {}; }

}  // namespace gflow::terms
