// gflow/expr/products.hpp: the products of an expression, with their hand-derived backward
// (core/kernels.hpp: gflow's loops, or the BLAS for large shapes), and the concatenation.
//
//   linear<"W", Out>(x)          y = W x            W [Out][In]
//   affine<"W", "b", Out>(x)     y = W x + b        W [Out][In], b [1][Out]
//   concat(a, b)                 y = [a; b]         width of a + width of b
//
// Out may be the expression's own width, given as its second argument d: linear<"W_plu", d>(p).
#pragma once
#include <array>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <gflow/expr/graph.hpp>
#include <gflow/terms/affine.hpp>

namespace gflow::expr {

template <fixed_string Name, int Out, node In>
struct linear_node : node_base, stateless_node {
    static_assert(Out > 0, "gflow::expr::linear<name, out>: out must be at least 1");
    using inputs = type_list<In>;
    static constexpr int width = Out, first_valid = In::first_valid, in_width = In::width;
    static constexpr std::size_t param_size = std::size_t(Out) * In::width;   // W [Out][In]
    static constexpr std::array<std::string_view, 1> param_names{Name.view()};
    static constexpr std::array<std::size_t, 1> param_offsets{0};
    static constexpr flop_count flops(long length) { return product_flops(length, In::width, Out); }

    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        f(param_desc{prefix + std::string(Name.view()), Out, In::width, offset});
    }
    static std::string label() { return fmt::format("linear {} [{} x {}]", Name.view(), Out, In::width); }

    template <int T, class S>
    static void forward(const pass& p, const S* w, S*, S*, S* y, std::array<const S*, 1> x) {
        kernels::matvec_rows<Out, In::width>(w, x[0], y, p.n);
    }
    template <int T, class S>
    static void backward(const pass& p, const S* w, S* dw, S*, S*, const S*, const S* dy,
                         std::array<const S*, 1> x, std::array<S*, 1> dx) {
        kernels::matvec_rows_backward<Out, In::width>(w, dw, x[0], dy, dx[0], p.n);
    }
};

template <fixed_string Weight, fixed_string Bias, int Out, node In>
struct affine_node : node_base, stateless_node {
    static_assert(Out > 0, "gflow::expr::affine<weight, bias, out>: out must be at least 1");
    using inputs = type_list<In>;
    static constexpr int width = Out, first_valid = In::first_valid, in_width = In::width;
    static constexpr std::size_t bias_at = std::size_t(Out) * In::width;   // W [Out][In], then b [Out]
    static constexpr std::size_t param_size = bias_at + Out;
    static constexpr std::array<std::string_view, 2> param_names{Weight.view(), Bias.view()};
    static constexpr std::array<std::size_t, 2> param_offsets{0, bias_at};
    static constexpr flop_count flops(long length) { return product_flops(length, In::width, Out); }

    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        f(param_desc{prefix + std::string(Weight.view()), Out, In::width, offset});
        f(param_desc{prefix + std::string(Bias.view()), 1, Out, offset + bias_at});
    }
    static std::string label() { return fmt::format("affine {} [{} x {}] + {}", Weight.view(), Out, In::width, Bias.view()); }

    template <int T, class S>
    static void forward(const pass& p, const S* w, S*, S*, S* y, std::array<const S*, 1> x) {
        terms::detail::affine_rows<Out, In::width>(w, w + bias_at, x[0], y, p.n);
    }
    template <int T, class S>
    static void backward(const pass& p, const S* w, S* dw, S*, S*, const S*, const S* dy,
                         std::array<const S*, 1> x, std::array<S*, 1> dx) {
        kernels::matvec_rows_backward<Out, In::width>(w, dw, x[0], dy, dx[0], p.n);
        terms::detail::bias_rows_backward<Out>(dw + bias_at, dy, p.n);
    }
};

template <node A, node B>
struct concat_node : node_base, no_params_node, stateless_node {
    static_assert(!std::is_same_v<A, B>, "gflow::expr::concat(a, a): concatenating a value with itself "
                                         "is a product's job (give the weight twice the columns)");
    using inputs = type_list<A, B>;
    static constexpr int width = A::width + B::width, first_valid = std::max(A::first_valid, B::first_valid);
    static std::string label() { return fmt::format("concat [{} + {}]", A::width, B::width); }

    template <int T, class S>
    static void forward(const pass& p, const S*, S*, S*, S* y, std::array<const S*, 2> x) {
        for (int t = 0; t < p.n; ++t) {
            S* yt = y + t * width;   // [A::width + B::width]
            for (int i = 0; i < A::width; ++i) yt[i] = x[0][t * A::width + i];
            for (int i = 0; i < B::width; ++i) yt[A::width + i] = x[1][t * B::width + i];
        }
    }
    template <int T, class S>
    static void backward(const pass& p, const S*, S*, S*, S*, const S*, const S* dy, std::array<const S*, 2>,
                         std::array<S*, 2> dx) {
        for (int t = 0; t < p.n; ++t) {
            const S* dyt = dy + t * width;
            for (int i = 0; i < A::width; ++i) dx[0][t * A::width + i] += dyt[i];
            for (int i = 0; i < B::width; ++i) dx[1][t * B::width + i] += dyt[A::width + i];
        }
    }
};

template <fixed_string Name, int Out, node In>
constexpr linear_node<Name, Out, In> linear(In) { return {}; }
template <fixed_string Weight, fixed_string Bias, int Out, node In>
constexpr affine_node<Weight, Bias, Out, In> affine(In) { return {}; }
template <node A, node B>
constexpr concat_node<A, B> concat(A, B) { return {}; }

}  // namespace gflow::expr
