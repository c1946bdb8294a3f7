// gflow/terms/stack.hpp: layers(body0, body1, ...): N layers of *different* structure applied in
// order, each with its own parameters, named layer0., layer1., ... exactly as repeat<N> names them.
// The use it exists for: per-layer window schedules, a compile-time parameter of the model.
//
//   // the paper's 12 layers, one Grassmann offset per layer (layer0 pairs t with t-1, ...,
//   // layer11 with t-16); parameters layer0.W_red .. layer11.W_red
//   schedule<1, 1, 2, 2, 4, 4, 8, 8, 12, 12, 16, 16>([](auto window) {
//       return residual(rmsnorm >> grassmann<4>(window)) >> residual(rmsnorm >> ffn<4>(relu));
//   })
//
//   // any per-layer argument, e.g. windows of several offsets
//   schedule([](auto window) { return residual(rmsnorm >> grassmann<4>(window)); },
//            offsets<1, 2>, offsets<4, 8>, offsets<16>)
//
// schedule<δ...>(f) is layers(f(offsets<δ>)...): the body is a function of the layer's window,
// called only in an unevaluated context (a term is an empty type, so only its type matters).
//
// Flat: the layers are one parameter pack, bound side by side (no recursion over the layers),
// and the passes run over an index_sequence, as chain_t does. Depth does not grow with N.
// Every layer must keep the width of its input (like repeat), so every layer is bound at the
// same input width W.
//
// Memory plan, inside the stack's activation block (it is the plan of a chain of the layers):
//   [block of layer 0] ... [block of layer N-1]
//   [values of the N-1 layer boundaries]  [their gradients]      each boundary [T][W]
// Forward runs layer 0 .. N-1, each reading the previous boundary. Backward runs N-1 .. 0; the
// gradient of boundary l (the input of layer l+1) is zeroed once, just before layer l+1, its only
// consumer, accumulates into it; layer 0 accumulates into the stack's dx. Decoding gives each
// layer its own slice of the state (a Grassmann layer with window {δ} keeps δ reduced vectors).
//
// A stack of N identical bodies has the same parameters, names, offsets and outputs as
// repeat<N>(body), so checkpoints move between the two spellings.
#pragma once
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <gflow/core/term.hpp>
#include <gflow/terms/chain.hpp>
#include <gflow/terms/grassmann.hpp>

namespace gflow {

namespace detail {
// Layer I of a stack: the bound body, its parameters named "layer{I}." inside the stack's prefix.
template <std::size_t I, class Body>
struct stack_layer : Body {
    template <class F>
    static void for_each_param(F&& f, std::size_t offset, const std::string& prefix) {
        Body::for_each_param(f, offset, fmt::format("{}layer{}.", prefix, I));
    }
    static void summarize(std::vector<summary_row>& rows, int depth) {
        rows.push_back({depth, fmt::format("layer{}", I), Body::in_width, Body::out_width, Body::param_size,
                        gflow::kept_of<Body>(), gflow::scratch_of<Body>()});
        Body::summarize(rows, depth + 1);
    }
};

template <dims C, int W, class Indices, class... Bodies> struct bind_stack;
template <dims C, int W, std::size_t... I, class... Bodies>
struct bind_stack<C, W, std::index_sequence<I...>, Bodies...> {
    using type = impl_list<stack_layer<I, bind<Bodies, C, W>>...>;
};
}  // namespace detail

template <term... Bodies>
struct stack_t : term_base {
    static constexpr bool handles_batches = true;   // a composite: passes a batch's rows on
    static constexpr int layer_count = sizeof...(Bodies);
    static_assert(layer_count >= 1, "gflow::layers(...): give at least one layer");

    template <dims C, int W>
    struct impl : chain_impl<C, typename detail::bind_stack<C, W, std::index_sequence_for<Bodies...>,
                                                             Bodies...>::type> {
        using base = chain_impl<C, typename detail::bind_stack<C, W, std::index_sequence_for<Bodies...>,
                                                                Bodies...>::type>;
        static_assert(((bind<Bodies, C, W>::out_width == W) && ...),
                      "gflow::layers: every layer must keep the width of its input (a layer's output "
                      "is the next layer's input, as in repeat)");

        static void summarize(std::vector<summary_row>& rows, int depth) {
            rows.push_back({depth, fmt::format("layers: {} (layer0. .. layer{}.)", layer_count, layer_count - 1),
                            W, W, base::param_size, base::kept_size, base::scratch_size});
            base::summarize(rows, depth + 1);
        }
    };
};

// layers(a, b, c): the layers a, b, c in order, parameters layer0., layer1., layer2.
template <term... Bodies>
constexpr stack_t<Bodies...> layers(Bodies...) { return {}; }

namespace detail {
template <class F, class... Args>
using layer_of = std::remove_cvref_t<std::invoke_result_t<const F&, Args...>>;
}

// schedule(f, a0, a1, ...): layers(f(a0), f(a1), ...), one layer per argument (a window, a
// width, anything the body is a function of). f must return a term.
template <class F, class... Args>
    requires(term<detail::layer_of<F, Args>> && ...)
constexpr stack_t<detail::layer_of<F, Args>...> schedule(F, Args...) { return {}; }

// schedule<δ0, δ1, ...>(f): one Grassmann offset per layer, layer l built as f(offsets<δl>).
template <int... Offsets, class F>
    requires(sizeof...(Offsets) >= 1 && (term<detail::layer_of<F, terms::window_t<Offsets>>> && ...))
constexpr stack_t<detail::layer_of<F, terms::window_t<Offsets>>...> schedule(F) { return {}; }

}  // namespace gflow

namespace gflow::terms {
// A model definition sees the combinators through terms, as it sees repeat and residual.
using gflow::layers, gflow::schedule;
}  // namespace gflow::terms
