// gflow/terms/attention.hpp: causal multi-head self-attention (the microGPT baseline,
// docs/benchmarks.md#attention), written as an expression (terms/expression.hpp):
//
//   q, k, v = W_q h, W_k h, W_v h                       each d x d, H heads of d/H
//   per head: a_ts = softmax_s(q_t . k_s / sqrt(d/H)), s <= t;   o_t = sum_s a_ts v_s   (expr::attend)
//   out = W_o concat(heads)
//
// Cost per sequence O(L^2 d). Decoding keeps a key/value cache that grows with the position.
#pragma once
#include <string>

#include <fmt/format.h>

#include <gflow/terms/expression.hpp>

namespace gflow::terms {

template <int H>
struct attention_expression {
    static std::string label() { return fmt::format("attention<{} heads> causal", H); }
    constexpr auto operator()(auto h, auto d) const {
        using namespace expr;
        auto o = attend<H>(expr::linear<"attn_wq", d>(h), expr::linear<"attn_wk", d>(h), expr::linear<"attn_wv", d>(h));
        return expr::linear<"attn_wo", d>(o);
    }
};

template <int H>
struct attention_t : expression_t<attention_expression<H>, "attention"> {
    static_assert(H >= 1, "gflow::attention<heads>: needs at least one head");
    static constexpr int heads = H;

    // The expression's term, with its parameters and weights named (examples/teaching shows them).
    template <dims C, int W>
    struct impl : expression_t<attention_expression<H>, "attention">::template impl<C, W> {
        using base = typename expression_t<attention_expression<H>, "attention">::template impl<C, W>;
        static constexpr int D = W / H;   // head size
        static constexpr std::size_t Wq = base::param("attn_wq"), Wk = base::param("attn_wk"),
                                     Wv = base::param("attn_wv"), Wo = base::param("attn_wo");   // [d][d] each
        static constexpr std::size_t att = base::layout.keep[base::input_node_of("attn_wo")];   // [H][T][T] softmax weights
    };
};

template <int H>
inline constexpr attention_t<H> attention{};

}  // namespace gflow::terms
