// gflow/expr/map.hpp: an elementwise function of K values of one width, y = f(x_1, ..., x_K),
// one fused loop forward and one backward whose derivative is generated from the same function
// (dual numbers with K tangents, core/elementwise.hpp). The gate and mix of the Grassmann mixer:
//
//     expr::map<"gate and mix">([](auto g, auto h, auto a, auto b) {
//         const auto alpha = sigmoid(a + b);
//         return alpha * h + (1 - alpha) * g;
//     }, g, h, linear<"W_gate_h", d>(h), linear<"W_gate_g", d>(g));
#pragma once
#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <gflow/core/elementwise.hpp>
#include <gflow/expr/graph.hpp>

namespace gflow::expr {

template <class F, fixed_string Label, node... Xs>
struct map_node : node_base, no_params_node, stateless_node {
    static_assert(sizeof...(Xs) >= 1, "gflow::expr::map(f, x...): give f at least one value");
    static constexpr int K = sizeof...(Xs);
    static constexpr int width = std::max({Xs::width...});
    static_assert(((Xs::width == width) && ...),
                  "gflow::expr::map(f, x...): every value f maps has the same width (f is applied "
                  "element by element)");
    using inputs = type_list<Xs...>;
    static constexpr int first_valid = std::max({Xs::first_valid...});
    static std::string label() { return fmt::format("map {} of {} [fused loop]", Label.view(), K); }

    template <int T, class S>
    static void forward(const pass& p, const S*, S*, S*, S* y, std::array<const S*, K> x) {
        [&]<std::size_t... k>(std::index_sequence<k...>) {
            kernels::map_forward<F>(p.n * width, y, x[k]...);
        }(std::make_index_sequence<K>{});
    }
    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S*, S*, const S*, const S* dy, std::array<const S*, K> x,
                         std::array<S*, K> dx) {
        kernels::map_backward<F, K>(p.n * width, dy, x, dx);
    }
};

// map(f, x...) and map<"label">(f, x...): f is a captureless lambda (or an empty function object)
// written with gflow::math's functions (sigmoid, exp, tanh, ...) and arithmetic.
template <fixed_string Label = "", class F, node... Xs>
constexpr map_node<F, Label, Xs...> map(F, Xs...) {
    static_assert(elementwise_function<F>, "gflow::expr::map(f, x...): f must be a captureless lambda or "
                                           "an empty function object");
    return {};
}

}  // namespace gflow::expr
