// gflow/expr/scale.hpp: a learned scalar gain of a value, as a node of an expression.
//
//   scale<"a">(x)      y = (1 + a) x        one parameter a [1][1]
//
// Written 1 + a, not a: a network draws every parameter from N(0, init_std²) (0.08 in the
// benchmarks), so a plain a x would start near 0 and all but switch its value off; (1 + a) x
// starts near x, and is x exactly at a = 0. docs/new_mixer.md weights each offset of a Grassmann
// window with it.
#pragma once
#include <array>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <gflow/expr/graph.hpp>

namespace gflow::expr {

template <fixed_string Name, node X>
struct scale_node : node_base, stateless_node {
    using inputs = type_list<X>;
    static constexpr int width = X::width, first_valid = X::first_valid;
    static constexpr std::size_t param_size = 1;   // a [1][1]
    static constexpr std::array<std::string_view, 1> param_names{Name.view()};
    static constexpr std::array<std::size_t, 1> param_offsets{0};   // where a lies in the node's block

    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        f(param_desc{prefix + std::string(Name.view()), 1, 1, offset});
    }
    static std::string label() { return fmt::format("scale (1 + {}) x", Name.view()); }

    // y, x [n][width], taken as one run of n·width scalars
    template <int T, class S>
    static void forward(const pass& p, const S* w, S*, S*, S* y, std::array<const S*, 1> x) {
        const S gain = 1 + w[0];
        for (int i = 0; i < p.n * width; ++i) y[i] = gain * x[0][i];
    }
    // da += Σ dy x over every row and feature, dx += (1 + a) dy   (dy, dx [n][width]).
    template <int T, class S>
    static void backward(const pass& p, const S* w, S* dw, S*, S*, const S*, const S* dy, std::array<const S*, 1> x,
                         std::array<S*, 1> dx) {
        const S gain = 1 + w[0];
        S da = 0;
        for (int i = 0; i < p.n * width; ++i) {
            da += dy[i] * x[0][i];
            dx[0][i] += gain * dy[i];
        }
        dw[0] += da;
    }
};

template <fixed_string Name, node X>
constexpr scale_node<Name, X> scale(X) { return {}; }

}  // namespace gflow::expr
