// gflow/terms/elementwise.hpp: a term from a scalar function, y[i] = f(x[i]). The backward is
// generated (core/elementwise.hpp): write the function once, generically, with the functions of
// gflow::math (exp, log, sqrt, tanh, sigmoid, relu, square) and arithmetic.
//
//     constexpr auto gelu = elementwise([](auto x) { return x * sigmoid(1.702 * x); });
//
// Adjacent elementwise terms of a chain (relu >> gelu) are bound as one fused_elementwise_t
// (terms/chain.hpp): one loop over the composition each way, none of the run's intermediates kept.
#pragma once
#include <cstddef>
#include <string>

#include <fmt/format.h>

#include <gflow/core/elementwise.hpp>
#include <gflow/core/term.hpp>

namespace gflow::terms {

// The scalar vocabulary for user functions. (relu is the term below, which is also callable.)
using gflow::math::exp, gflow::math::log, gflow::math::sqrt, gflow::math::tanh,
    gflow::math::sigmoid, gflow::math::square;

template <elementwise_function F, fixed_string Label = "elementwise">
struct elementwise_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    // An elementwise term is also its function, so terms compose inside other functions:
    // elementwise([](auto x) { return relu(x) * x; }).
    template <class X>
    constexpr auto operator()(const X& x) const { return F{}(x); }
    using function = F;
    static constexpr auto label = Label;

    template <dims C, int W>
    struct impl : position_wise<impl<C, W>>, no_params {
        static_assert(W > 0, "gflow::elementwise: needs an input vector (it cannot start a model)");
        static constexpr int in_width = W, out_width = W;
        static constexpr std::size_t act_size = 0;   // backward re-evaluates f on the saved input x

        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, std::string(Label.view()) + " [fused loop]", W, W, 0, 0});
        }
        template <class S>
        static void forward(const pass& p, const S*, S*, const S* x, S* y) {
            kernels::map_forward<F>(p.n * W, y, x);
        }
        template <class S>
        static void backward(const pass& p, const S*, S*, S*, const S* x, const S*, const S* dy,
                             S* dx) {
            kernels::map_backward<F, 1>(p.n * W, dy, {x}, {dx});
        }
    };
};

template <class T> inline constexpr bool is_elementwise_term = false;
template <class F, fixed_string Label> inline constexpr bool is_elementwise_term<elementwise_t<F, Label>> = true;

// A maximal run of two or more adjacent elementwise terms of a chain, as one term: forward one
// loop over the composition, backward one loop over it on duals (core/elementwise.hpp). The chain
// binds it in the run's place (terms/chain.hpp), so the run's k - 1 intermediates [T][W] and
// their gradients [T][W] are not in its memory plan; nothing else is kept either (act_size 0).
template <class... Maps>
    requires(sizeof...(Maps) >= 2 && (is_elementwise_term<Maps> && ...))
struct fused_elementwise_t : term_base {
    static constexpr bool handles_batches = true;   // position-wise: a batch is B·T rows
    using function = composed<typename Maps::function...>;

    // "relu >> gelu": the run as it was written
    static std::string name() {
        std::string s;
        ((s += (s.empty() ? "" : " >> ") + std::string(Maps::label.view())), ...);
        return s;
    }

    template <dims C, int W>
    struct impl : position_wise<impl<C, W>>, no_params {
        static_assert(W > 0, "gflow::elementwise: needs an input vector (it cannot start a model)");
        static constexpr int in_width = W, out_width = W;
        static constexpr std::size_t act_size = 0;   // backward re-evaluates the composition on x
        // What the unfused chain would keep: k - 1 intermediates [T][W] and their gradients [T][W].
        static constexpr std::size_t saved = 2 * (sizeof...(Maps) - 1) * std::size_t(C.rows()) * W;

        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, fmt::format("{} [one fused loop; saves {} activation scalars]", name(), saved),
                            W, W, 0, 0});
        }
        template <class S>
        static void forward(const pass& p, const S*, S*, const S* x, S* y) {
            kernels::map_forward<function>(p.n * W, y, x);
        }
        template <class S>
        static void backward(const pass& p, const S*, S*, S*, const S* x, const S*, const S* dy,
                             S* dx) {
            kernels::map_backward<function, 1>(p.n * W, dy, {x}, {dx});
        }
    };
};

// The function must be captureless: a term is a type, and its function is part of that type.
template <fixed_string Label = "elementwise", class F>
constexpr elementwise_t<F, Label> elementwise(F) {
    static_assert(elementwise_function<F>,
                  "gflow::elementwise(f): f must be a captureless lambda or an empty function object");
    return {};
}

namespace detail {
struct relu_fn {
    static constexpr bool on_lanes = true;   // runs on whole registers (core/elementwise.hpp)
    template <class X> constexpr auto operator()(const X& x) const { return gflow::math::relu(x); }
};
}  // namespace detail

using relu_t = elementwise_t<detail::relu_fn, "relu">;
inline constexpr relu_t relu{};

}  // namespace gflow::terms
