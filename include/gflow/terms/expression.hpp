// gflow/terms/expression.hpp: a term written as an expression of its input (expr/graph.hpp), with
// no backward and no decoding written by hand: both are generated from the expression.
//
//     constexpr auto causal_mean = expression<"causal mean">([](auto h, auto d) {
//         return expr::window_mean(h, expr::shift<1>(h), expr::shift<2>(h));
//     });
//
// The function receives the input h (a node of width d) and d itself (a compile-time integer, for
// products that map back to the input's width: expr::linear<"W", d>(x)), and returns the output
// node. It is called only for its type, never run. The expression's nodes: expr/products.hpp
// (linear, affine, concat), expr/map.hpp (elementwise functions of several values), expr/causal.hpp
// (shift, window_mean, valid_only), expr/plucker.hpp (plucker, unit), expr/attend.hpp (attend).
#pragma once
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include <gflow/core/term.hpp>
#include <gflow/expr/attend.hpp>
#include <gflow/expr/causal.hpp>
#include <gflow/expr/graph.hpp>
#include <gflow/expr/map.hpp>
#include <gflow/expr/plucker.hpp>
#include <gflow/expr/products.hpp>

namespace gflow::terms {

template <class F, fixed_string Label>
struct expression_t : term_base {
    template <int W>
    using root = decltype(F{}(expr::input<W>{}, std::integral_constant<int, W>{}));

    template <dims C, int W>
    struct impl : expr::graph<C.block, W, root<W>> {
        // What the graph keeps and its scratch, by node: "values [T][4], [T][6], ...; p̂ [T][K][C(r,2)], ...;
        // scratch: the gradients (N scalars, shared where their lives allow), ∂p [C(r,2)]"
        static std::string buffers() {
            using graph = expr::graph<C.block, W, root<W>>;
            std::string values, kept_parts, scratch_parts;
            graph::for_each_index([&]<std::size_t k>() {
                using N = typename graph::template at<k>;
                if (k + 1 < graph::K) values += fmt::format("{}[T][{}]", values.empty() ? "" : ", ", N::width);
                if constexpr (requires { N::template memory<C.block>; }) {
                    for (const auto& b : N::template memory<C.block>.buffers) {
                        if (b.size == 0) continue;   // a buffer this shape does without
                        std::string& s = b.life == lifetime::kept ? kept_parts : scratch_parts;
                        s += fmt::format(", {} {}", b.name, b.shape);
                    }
                }
            });
            return fmt::format("node values {}{}; scratch: their gradients ({} scalars, shared where their lives "
                               "allow){}",
                               values, kept_parts, graph::layout.grads, scratch_parts);
        }
        static_assert(W > 0, "gflow::expression: needs an input vector (it cannot start a model)");
        using graph = expr::graph<C.block, W, root<W>>;
        static constexpr int in_width = W, out_width = root<W>::width;

        static void summarize(std::vector<summary_row>& rows, int depth) {
            std::string label(Label.view());
            if constexpr (requires { F::label(); }) label = F::label();
            rows.push_back({depth, fmt::format("{} [expression of {} nodes]", label, graph::K), W, out_width,
                            graph::param_size, graph::kept_size, graph::scratch_size, buffers()});
        }
    };
};

// The function must be captureless: a term is a type, and its expression is part of that type.
template <fixed_string Label = "expression", class F>
constexpr expression_t<F, Label> expression(F) {
    static_assert(std::is_empty_v<F> && std::is_default_constructible_v<F>,
                  "gflow::expression(f): f must be a captureless lambda [](auto h, auto d) { ... }");
    return {};
}

}  // namespace gflow::terms
