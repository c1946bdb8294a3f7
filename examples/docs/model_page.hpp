// model_page.hpp: a model's page (docs/generated/*.md), written from the model's type.
//
// Two sources, both the type's:
//   - the passes the library already has: Model::summary() (the printing pass), parameters(),
//     activation_count(), decode_state_count();
//   - a walk over the expression's term types (chain_t, sum_t, residual_t, repeat_t, ffn_t and
//     the leaves) that lays out the forward and backward schedules exactly as the composite
//     terms run them (terms/chain.hpp, residual.hpp, sum.hpp, repeat.hpp): which buffer each term
//     reads and writes, where an intermediate gradient is zeroed, where a gradient is summed.
// The walk's leaves, in order, are checked against the summary's leaves: if a composite term
// were added without teaching the walk, the page generator fails instead of drifting.
// What a leaf does inside (its loops) is a short description per leaf type, with every size
// taken from the bound type; the loops themselves are in the leaf's header.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gflow/gflow.hpp>
#include <gflow/terms/affine.hpp>
#include <gflow/terms/grassmann_paper.hpp>
#include <gflow/terms/layernorm.hpp>

namespace gdocs {

using gflow::bind;
using gflow::dims;

// ---- the schedule tree -------------------------------------------------------------------------

struct node {
    enum kind_t { leaf, chain, sum, residual, repeat, group } kind = leaf;
    std::string label;                     // the summary's label
    std::string in, out;                   // buffer names
    int in_width = 0, out_width = 0;
    std::vector<std::string> forward, backward;   // a leaf's steps
    std::vector<node> children;
    std::vector<std::string> mids;         // chain: intermediate buffers; sum: branch outputs; residual: body output
    int layers = 0;                        // repeat
    std::size_t layer_params = 0, layer_acts = 0;
};

struct fused_loop {
    std::string where;   // the term's label
    std::string out;     // the buffer it writes (links the row to the schedules)
    std::string what;
    std::string forward;
    std::string backward;
};

struct state_note {
    std::string where;
    std::string what;
    std::size_t scalars;
};

struct context {
    int next = 1;
    std::vector<fused_loop> fused;
    int fused_runs = 0;                     // runs of adjacent elementwise terms bound as one term
    std::size_t fused_saved = 0;            // the activation scalars they do not keep, all layers
    std::vector<state_note> state;
    std::vector<std::string> leaf_labels;   // in forward order
    int repeat_multiplier = 1;              // layers around the current node
    std::string fresh(std::string_view prefix) { return fmt::format("{}{}", prefix, next++); }
};

inline std::string shape(std::string_view name, int width) {
    if (name == "tokens") return "tokens";
    return fmt::format("{} [n][{}]", name, width);
}

template <class I>
std::string label_of() {
    std::vector<gflow::summary_row> rows;
    I::summarize(rows, 0);
    return rows.front().label;
}

inline std::string with_commas(std::size_t v) {
    const std::string digits = std::to_string(v);
    std::string s;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
        s += digits[i];
    }
    return s;
}

inline std::string kib(std::size_t scalars, std::size_t bytes) {
    const std::size_t tenths = (scalars * bytes * 10 + 512) / 1024;   // rounded to 0.1 KiB
    return fmt::format("{}.{}", with_commas(tenths / 10), tenths % 10);
}

// ---- what each leaf does inside ------------------------------------------------------------------
// leaf_steps<T, C, W>::make(ctx, in, out, node&) fills the node's forward and backward steps.

template <class T, dims C, int W>
struct leaf_steps {
    static void make(context&, const std::string& in, const std::string& out, node& n) {
        n.forward = {fmt::format("`forward`: {} → {}", in, out)};
        n.backward = {fmt::format("`backward`: ∂{} → ∂{}", out, in)};
    }
};

template <dims C, int W>
struct leaf_steps<gflow::terms::token_embedding_t, C, W> {
    static void make(context&, const std::string&, const std::string& out, node& n) {
        n.forward = {fmt::format("gather: {}_t = wte[token_t], one row of {} per position", out, C.width)};
        n.backward = {fmt::format("scatter-add: ∂wte[token_t] += ∂{}_t, one loop of {} per position; "
                                  "no input gradient (it reads tokens)", out, C.width)};
    }
};

template <dims C, int W>
struct leaf_steps<gflow::terms::position_embedding_t, C, W> {
    static void make(context&, const std::string&, const std::string& out, node& n) {
        n.forward = {fmt::format("copy: {} = wpe[0 .. n), one loop over n·{}", out, C.width)};
        n.backward = {fmt::format("∂wpe[0 .. n) += ∂{}, one loop over n·{}; no input gradient", out, C.width)};
    }
};

template <dims C, int W>
struct leaf_steps<gflow::terms::rmsnorm_t, C, W> {
    static void make(context&, const std::string& in, const std::string& out, node& n) {
        n.forward = {fmt::format("per position: Σ {0}² over {1} (one `omp simd` reduction), "
                                 "r = 1/√(mean + 1e-5) saved [T], {2} = r·{0} (one simd loop)", in, W, out)};
        n.backward = {fmt::format("per position: m = mean(∂{0} ⊙ {0}) (simd reduction), "
                                  "∂{1} += r (∂{0} − {0}·m) (one simd loop); reads its own output {0} and the saved r",
                                  out, in)};
    }
};

template <int In, int Out>
std::vector<std::string> dense_forward(const std::string& in, const std::string& out, std::string_view w) {
    return {fmt::format("{0}_t = {1} {2}_t: `matvec_rows<{3}, {4}>`, {3} dot products of length {4} "
                        "per position (vector lanes, one horizontal sum each)",
                        out, w, in, Out, In)};
}
template <int In, int Out>
std::vector<std::string> dense_backward(const std::string& in, const std::string& out, std::string_view w) {
    std::vector<std::string> s{
        fmt::format("`matvec_rows_backward<{0}, {1}>`: per position and output o, one simd loop of {1}: "
                    "∂{2}[o] += ∂{3}_t[o]·{4}_t and ∂{4}_t += ∂{3}_t[o]·{2}[o]",
                    Out, In, w, out, in)};
    return s;
}

template <int Out, gflow::fixed_string Name, dims C, int W>
struct leaf_steps<gflow::terms::linear_t<Out, Name>, C, W> {
    static void make(context&, const std::string& in, const std::string& out, node& n) {
        n.forward = dense_forward<W, Out>(in, out, Name.view());
        n.backward = dense_backward<W, Out>(in, out, Name.view());
    }
};

template <dims C, int W>
struct leaf_steps<gflow::terms::lm_head_t, C, W> {
    static void make(context&, const std::string& in, const std::string& out, node& n) {
        n.forward = dense_forward<W, C.vocab>(in, out, "lm_head");
        n.backward = dense_backward<W, C.vocab>(in, out, "lm_head");
    }
};

template <int Out, gflow::fixed_string Name, dims C, int W>
struct leaf_steps<gflow::terms::affine_t<Out, Name>, C, W> {
    static void make(context&, const std::string& in, const std::string& out, node& n) {
        const std::string name(Name.view());
        n.forward = {fmt::format("{0}_t = {1}.bias (one simd loop per position), then {0}_t += {1}.weight {2}_t: "
                                 "`matvec_rows_add<{3}, {4}>`, {3} dot products of length {4} per position",
                                 out, name, in, Out, W)};
        n.backward = dense_backward<W, Out>(in, out, name + ".weight");
        n.backward.push_back(fmt::format("∂{}.bias += Σ_t ∂{}_t, one simd loop of {} per position", name, out, Out));
    }
};

template <class F, gflow::fixed_string Label, dims C, int W>
struct leaf_steps<gflow::terms::elementwise_t<F, Label>, C, W> {
    static void make(context& ctx, const std::string& in, const std::string& out, node& n) {
        const std::string f(Label.view());
        n.forward = {fmt::format("one fused loop over n·{}: {} = {}({}) (`kernels::map_forward`)", W, out, f, in)};
        n.backward = {fmt::format("one loop over n·{}: {} re-evaluated on dual numbers with 1 tangent, "
                                  "∂{} += ∂{} · {}′({}) (`kernels::map_backward`); nothing saved",
                                  W, f, in, out, f, in)};
        ctx.fused.push_back({"", "", fmt::format("`{}` (elementwise term)", f),
                             fmt::format("1 loop over n·{}", W),
                             "1 loop over n·" + std::to_string(W) + ", the derivative generated (duals, 1 tangent)"});
    }
};

// A run of adjacent elementwise terms of a chain, bound as one term (terms/chain.hpp).
template <class... Maps, dims C, int W>
struct leaf_steps<gflow::terms::fused_elementwise_t<Maps...>, C, W> {
    using T = gflow::terms::fused_elementwise_t<Maps...>;
    static void make(context& ctx, const std::string& in, const std::string& out, node& n) {
        constexpr std::size_t k = sizeof...(Maps);
        const std::size_t saved = bind<T, C, W>::saved;
        std::string applied = in;   // gelu(relu(x))
        ((applied = fmt::format("{}({})", Maps::label.view(), applied)), ...);
        n.forward = {fmt::format("one fused loop over n·{}: {} = {}, each stage rounded as a buffer between "
                                 "them would round it (`kernels::map_forward` of the composition)", W, out, applied)};
        n.backward = {fmt::format("one loop over n·{}: the composition re-evaluated on dual numbers with 1 tangent, "
                                  "which chains the {} derivatives: ∂{} += ∂{} · ({})′({}) (`kernels::map_backward`); "
                                  "nothing saved", W, k, in, out, T::name(), in)};
        ctx.fused.push_back({"", "",
                             fmt::format("`{}`: {} adjacent elementwise terms of a chain, bound as one term; {} "
                                         "[T][{}] between them and {} not kept: {} scalars ({} KiB f32) saved{}",
                                         T::name(), k,
                                         k == 2 ? std::string("the intermediate")
                                                : fmt::format("the {} intermediates", k - 1),
                                         W, k == 2 ? "its gradient are" : "their gradients are", with_commas(saved),
                                         kib(saved, 4),
                                         ctx.repeat_multiplier > 1
                                             ? fmt::format(" in each of {} layers", ctx.repeat_multiplier)
                                             : std::string()),
                             fmt::format("1 loop over n·{} instead of {}", W, k),
                             fmt::format("1 loop over n·{} instead of {}, the derivatives chained on duals (1 tangent)",
                                         W, k)});
        ctx.fused_runs += ctx.repeat_multiplier;
        ctx.fused_saved += saved * std::size_t(ctx.repeat_multiplier);
    }
};

template <gflow::fixed_string Name, dims C, int W>
struct leaf_steps<gflow::terms::layernorm_t<Name>, C, W> {
    static void make(context&, const std::string& in, const std::string& out, node& n) {
        const std::string g = std::string(Name.view());
        n.forward = {fmt::format("per position: mean and variance of {0} by two simd reductions over {1}, "
                                 "r = 1/√(σ² + 1e-5) saved [T], x̂ = ({0} − μ) r saved [T][{1}], "
                                 "{2} = {3}.gain ⊙ x̂ + {3}.bias (one simd loop)", in, W, out, g)};
        n.backward = {fmt::format("per position: one loop forms mean(∂x̂), mean(∂x̂ ⊙ x̂), ∂{0}.gain, ∂{0}.bias "
                                  "(∂x̂ = gain ⊙ ∂{1}), then ∂{2} += r (∂x̂ − mean(∂x̂) − x̂ mean(∂x̂ ⊙ x̂)) "
                                  "(one simd loop)", g, out, in)};
    }
};

// The Grassmann mixer (the microGrassmann form, docs/benchmarks.md#grassmann-mixer): the code
// generated from its expression (terms/grassmann.hpp), node by node.
template <int R, int... Offsets, dims C, int W>
struct leaf_steps<gflow::terms::grassmann_t<R, Offsets...>, C, W> {
    using G = gflow::terms::grassmann_t<R, Offsets...>;
    static void make(context& ctx, const std::string& h, const std::string& y, node& n) {
        constexpr int P = G::pairs, K = G::K;
        const auto win = fmt::format("{}", G::window);
        n.forward = {
            fmt::format("z = W_red {} (node `linear`): `matvec_rows<{}, {}>`; z saved [T][{}]", h, R, W, R),
            fmt::format("**Plücker pass, one fused loop per position t** (the expression's "
                        "`window_mean(unit(plucker(z, shift<δ>(z)))...)`, recognised as one node): for each δ in {} "
                        "with t − δ ≥ 0: the C({},2) = {} coordinates p of (z_t, z_(t−δ)) and |p|², "
                        "p̂ = p / √(|p|² + 1e-8), added to the mean p̄_t; p̂ saved [T][{}][{}], 1/|p| saved [T][{}], "
                        "p̄ saved [T][{}]", win, R, P, K, P, K, P),
            fmt::format("g = W_plu p̄: `matvec_rows<{}, {}>` (W_plu applied once, to the mean); g saved [T][{}]", W, P, W),
            fmt::format("a = W_gate_h {}, b = W_gate_g g: two `matvec_rows<{}, {}>`; saved [T][{}] each", h, W, W, W),
            fmt::format("**gate and mix, one generated loop over n·{}** (node `map`): {} = α ⊙ {} + (1 − α) ⊙ g, "
                        "α = sigmoid(a + b) (`map_forward<gate_sum_and_mix>`)", W, y, h),
        };
        n.backward = {
            fmt::format("zero the gradients of the mixer's values: ∂z [n][{}], ∂p̄ [n][{}], ∂g, ∂a, ∂b [n][{}]", R, P, W),
            fmt::format("**gate and mix backward, one loop over n·{}** on dual numbers with 4 tangents: "
                        "∂g, ∂{}, ∂a, ∂b += ∂{} · ∂out/∂(g, {}, a, b) (`map_backward<gate_sum_and_mix, 4>`)",
                        W, h, y, h),
            fmt::format("`matvec_rows_backward<{0}, {0}>` twice: ∂W_gate_g += ∂b gᵀ, ∂g += W_gate_gᵀ ∂b; "
                        "∂W_gate_h += ∂a {1}ᵀ, ∂{1} += W_gate_hᵀ ∂a", W, h),
            fmt::format("`matvec_rows_backward<{}, {}>`: ∂W_plu += ∂g p̄ᵀ, ∂p̄ += W_pluᵀ ∂g", W, P),
            fmt::format("**Plücker backward, one loop per position t**: for each δ, "
                        "∂p = (∂p̂ − p̂ (p̂ · ∂p̂)) / |p| with ∂p̂ = ∂p̄_t / count, from the saved p̂ and 1/|p|, "
                        "into ∂z_t and ∂z_(t−δ)"),
            fmt::format("`matvec_rows_backward<{}, {}>`: ∂W_red += ∂z {}ᵀ, ∂{} += W_redᵀ ∂z (∂{} gets its three "
                        "parts, gate and mix, W_gate_h and W_red, each accumulated in place)", R, W, h, h, h),
        };
        ctx.fused.push_back({"", "", "Plücker coordinates + normalisation + mean (grassmann)",
                             fmt::format("1 loop per position over the {} offsets, {} coordinates each", K, P),
                             "1 loop per position, from the saved p̂ and 1/|p|"});
        ctx.fused.push_back({"", "", "gate and mix α ⊙ h + (1 − α) ⊙ g, α = sigmoid(a + b) (grassmann)",
                             fmt::format("1 generated loop over n·{}", W),
                             fmt::format("1 loop over n·{}, derivative generated (duals, 4 tangents)", W)});
        ctx.state.push_back({"", fmt::format("grassmann: a ring of the last max(window) = {} reduced vectors z of {}",
                                             G::max_offset, R),
                             bind<G, C, W>::state_size});
    }
};

// The paper's Grassmann mixer: the code generated from its expression (terms/grassmann_paper.hpp).
template <int R, gflow::terms::plucker_norm Norm, int... Offsets, dims C, int W>
struct leaf_steps<gflow::terms::grassmann_paper_t<R, Norm, Offsets...>, C, W> {
    using G = gflow::terms::grassmann_paper_t<R, Norm, Offsets...>;
    static void make(context& ctx, const std::string& h, const std::string& y, node& n) {
        constexpr int P = G::pairs, K = G::K;
        const auto win = fmt::format("{}", G::window);
        const char* norm = Norm == gflow::terms::plucker_norm::max ? "p / max(|p|, 1e-8)" : "p / √(|p|² + 1e-8)";
        n.forward = {
            fmt::format("z = b_red, then z += W_red {} (node `affine`): `matvec_rows_add<{}, {}>`; z saved [T][{}]",
                        h, R, W, R),
            fmt::format("**Plücker pass, one fused loop per position t**: for each δ in {} with t − δ ≥ 0: "
                        "the C({},2) = {} coordinates p of (z_t, z_(t−δ)), p̂ = {}, added to the mean p̄_t; "
                        "p̂ saved [T][{}][{}], 1/N(p) saved [T][{}], p̄ saved [T][{}]",
                        win, R, P, norm, K, P, K, P),
            fmt::format("b_plu + W_plu p̄: `matvec_rows_add<{}, {}>` (applied once, to the mean), saved [T][{}]; "
                        "g = the same, 0 on the first min(window) = {} position(s), which have no earlier partner "
                        "(node `valid_only`), saved [T][{}]", W, P, W, G::min_offset, W),
            fmt::format("[{}; g] (node `concat`), saved [T][{}]; gate = W_gate [{}; g] + b_gate: "
                        "`matvec_rows_add<{}, {}>`, saved [T][{}]", h, 2 * W, h, W, 2 * W, W),
            fmt::format("**gate and mix, one generated loop over n·{}**: {} = α ⊙ {} + (1 − α) ⊙ g, "
                        "α = sigmoid(gate) (`map_forward<gate_and_mix>`)", W, y, h),
        };
        n.backward = {
            fmt::format("zero the gradients of the mixer's values (∂z, ∂p̄, ∂g before and after the mask, "
                        "∂[h; g], ∂gate)"),
            fmt::format("**gate and mix backward, one loop over n·{}** on dual numbers with 3 tangents "
                        "(`map_backward<gate_and_mix, 3>`)", W),
            fmt::format("W_gate backward: ∂W_gate, ∂b_gate, ∂[{}; g] += W_gateᵀ ∂gate; the concatenation's "
                        "backward adds its halves into ∂{} and ∂g; the mask's passes ∂g on from position {} on",
                        h, h, G::min_offset),
            fmt::format("W_plu backward: ∂W_plu, ∂b_plu, ∂p̄ [n][{}]", P),
            fmt::format("**Plücker backward, one loop per position** from the saved p̂ and 1/N(p) into ∂z [n][{}]", R),
            fmt::format("W_red backward: ∂W_red, ∂b_red, ∂{} += W_redᵀ ∂z", h),
        };
        ctx.fused.push_back({"", "", "Plücker coordinates + normalisation + mean (grassmann_paper)",
                             fmt::format("1 loop per position over the {} offsets, {} coordinates each", K, P),
                             "1 loop per position, from the saved p̂ and 1/N(p)"});
        ctx.fused.push_back({"", "", "gate and mix α ⊙ h + (1 − α) ⊙ g, α = sigmoid(gate) (grassmann_paper)",
                             fmt::format("1 generated loop over n·{}", W),
                             fmt::format("1 loop over n·{}, derivative generated (duals, 3 tangents)", W)});
        ctx.state.push_back({"", fmt::format("grassmann_paper: a ring of the last max(window) = {} reduced vectors z of {}",
                                             G::max_offset, R),
                             bind<G, C, W>::state_size});
    }
};

template <int H, dims C, int W>
struct leaf_steps<gflow::terms::attention_t<H>, C, W> {
    static void make(context& ctx, const std::string& h, const std::string& y, node& n) {
        constexpr int D = W / H, T = C.block;
        n.forward = {
            fmt::format("q, k, v = W_q {0}, W_k {0}, W_v {0}: three `matvec_rows<{1}, {1}>`; saved [T][{1}] each", h, W),
            fmt::format("**all {} heads at once, per position t**: scores q_t · k_s / √{} for s ≤ t on rows of {} "
                        "lanes, each head's {} lanes summed by shuffles (in float and double, where a vector holds "
                        "whole heads; else per head, simd dots of {}), softmax (one exp per score), "
                        "o_t = Σ_s a_ts v_s; weights saved [T][T][{}] = {} scalars", H, D, W, D, D, H, H * T * T),
            fmt::format("{} = W_o o: `matvec_rows<{}, {}>`", y, W, W),
        };
        n.backward = {
            fmt::format("zero ∂q, ∂k, ∂v, ∂o [n][{0}]; `matvec_rows_backward<{0}, {0}>`: ∂W_o += ∂{1} oᵀ, "
                        "∂o += W_oᵀ ∂{1}", W, y),
            fmt::format("all heads at once, per position t, on rows of {1} lanes: ∂a_s = ∂o_t · v_s and "
                        "∂v_s += a_s ∂o_t; ∂score_s = a_s (∂a_s − Σ_j a_j ∂a_j) / √{0}; ∂q_t += ∂score_s k_s, "
                        "∂k_s += ∂score_s q_t", D, W),
            fmt::format("three `matvec_rows_backward<{0}, {0}>`, in reverse order: ∂W_v, ∂W_k, ∂W_q, and "
                        "∂{1} += W_vᵀ ∂v + W_kᵀ ∂k + W_qᵀ ∂q (accumulated in place)", W, h),
        };
        ctx.fused.push_back({"", "", "attention: scores, softmax and weighted sum, per head and query (`attend`)",
                             fmt::format("1 pass per t over s ≤ t, all heads in vector lanes; {} × {} weights kept "
                                         "per head", T, T),
                             "1 pass per t over s ≤ t, all heads in vector lanes"});
        ctx.state.push_back({"", fmt::format("attention: a key and value cache of the block, 2 × {} × {}", T, W),
                             bind<gflow::terms::attention_t<H>, C, W>::state_size});
    }
};

// ---- the walk over the expression ------------------------------------------------------------------

template <class T, dims C, int W>
struct walk {   // a leaf
    static node make(context& ctx, const std::string& in, const std::string& out) {
        using I = bind<T, C, W>;
        node n;
        n.label = label_of<I>();
        n.in = in;
        n.out = out;
        n.in_width = I::in_width;
        n.out_width = I::out_width;
        leaf_steps<T, C, W>::make(ctx, in, out, n);
        ctx.leaf_labels.push_back(n.label);
        for (auto& f : ctx.fused)
            if (f.where.empty()) {
                f.where = n.label;
                f.out = out;
            }
        for (auto& s : ctx.state)
            if (s.where.empty()) {
                s.where = n.label;
                s.scalars *= std::size_t(ctx.repeat_multiplier);
                if (ctx.repeat_multiplier > 1) s.what += fmt::format(", in each of {} layers", ctx.repeat_multiplier);
            }
        return n;
    }
};

template <dims C, int W, class... Ts>
struct walk_chain;
template <dims C, int W>
struct walk_chain<C, W> {
    static void make(context&, node&, const std::string&, const std::string&, bool) {}
};
template <dims C, int W, class T, class... Rest>
struct walk_chain<C, W, T, Rest...> {
    static void make(context& ctx, node& n, const std::string& in, const std::string& out, bool) {
        using I = bind<T, C, W>;
        const bool last = sizeof...(Rest) == 0;
        const std::string next = last ? out : ctx.fresh("x");
        if (!last) n.mids.push_back(next);
        n.children.push_back(walk<T, C, W>::make(ctx, in, next));
        walk_chain<C, I::out_width, Rest...>::make(ctx, n, next, out, last);
    }
};

template <dims C, int W, class List>
struct walk_terms;
template <dims C, int W, class... Ts>
struct walk_terms<C, W, gflow::term_list<Ts...>> : walk_chain<C, W, Ts...> {};

template <class... Ts, dims C, int W>
struct walk<gflow::chain_t<Ts...>, C, W> {
    static node make(context& ctx, const std::string& in, const std::string& out) {
        using I = bind<gflow::chain_t<Ts...>, C, W>;
        node n;
        n.kind = node::chain;
        n.in = in;
        n.out = out;
        n.in_width = I::in_width;
        n.out_width = I::out_width;
        // the terms as the chain binds them: each run of adjacent elementwise terms is one term
        walk_terms<C, W, typename gflow::chain_t<Ts...>::fused>::make(ctx, n, in, out, false);
        return n;
    }
};

template <class A, class B, dims C, int W>
struct walk<gflow::sum_t<A, B>, C, W> {
    static node make(context& ctx, const std::string& in, const std::string& out) {
        using I = bind<gflow::sum_t<A, B>, C, W>;
        node n;
        n.kind = node::sum;
        n.label = label_of<I>();
        n.in = in;
        n.out = out;
        n.in_width = I::in_width;
        n.out_width = I::out_width;
        const std::string l = ctx.fresh("s"), r = ctx.fresh("s");
        n.mids = {l, r};
        n.children.push_back(walk<A, C, W>::make(ctx, in, l));
        n.children.push_back(walk<B, C, W>::make(ctx, in, r));
        ctx.fused.push_back({n.label, out, "sum: the two branches added",
                             fmt::format("1 loop over n·{}", I::out_width), "none: both branches get the same ∂y"});
        return n;
    }
};

template <class Body, dims C, int W>
struct walk<gflow::residual_t<Body>, C, W> {
    static node make(context& ctx, const std::string& in, const std::string& out) {
        using I = bind<gflow::residual_t<Body>, C, W>;
        node n;
        n.kind = node::residual;
        n.label = label_of<I>();
        n.in = in;
        n.out = out;
        n.in_width = n.out_width = W;
        const std::string b = ctx.fresh("b");
        n.mids = {b};
        n.children.push_back(walk<Body, C, W>::make(ctx, in, b));
        ctx.fused.push_back({n.label, out, "the skip path added to the body's output", fmt::format("1 loop over n·{}", W),
                             fmt::format("1 loop over n·{} (∂x += ∂y, the skip path)", W)});
        return n;
    }
};

template <int N, class Body, dims C, int W>
struct walk<gflow::repeat_t<N, Body>, C, W> {
    static node make(context& ctx, const std::string& in, const std::string& out) {
        using I = bind<gflow::repeat_t<N, Body>, C, W>;
        node n;
        n.kind = node::repeat;
        n.label = label_of<I>();
        n.in = in;
        n.out = out;
        n.in_width = n.out_width = W;
        n.layers = N;
        n.layer_params = I::layer_params;
        n.layer_acts = I::layer_acts;
        const int outer = ctx.repeat_multiplier;
        ctx.repeat_multiplier *= N;
        n.children.push_back(walk<Body, C, W>::make(ctx, "h_l", "h_(l+1)"));
        ctx.repeat_multiplier = outer;
        return n;
    }
};

template <int M, class Act, dims C, int W>
struct walk<gflow::terms::ffn_t<M, Act>, C, W> {
    static node make(context& ctx, const std::string& in, const std::string& out) {
        using I = bind<gflow::terms::ffn_t<M, Act>, C, W>;
        // ffn<M>(act) is bound as the chain mlp_fc1 >> act >> mlp_fc2 (terms/ffn.hpp)
        using as_chain = gflow::chain_t<gflow::terms::linear_t<M * W, "mlp_fc1">, Act,
                                        gflow::terms::linear_t<W, "mlp_fc2">>;
        static_assert(I::param_size == bind<as_chain, C, W>::param_size &&
                      I::act_size == bind<as_chain, C, W>::act_size);
        node n;
        n.kind = node::group;
        n.label = label_of<I>();
        n.in = in;
        n.out = out;
        n.in_width = n.out_width = W;
        n.children.push_back(walk<as_chain, C, W>::make(ctx, in, out));
        return n;
    }
};

// ---- rendering ------------------------------------------------------------------------------------

struct writer {
    std::string text;
    template <class... A>
    void line(int depth, fmt::format_string<A...> f, A&&... a) {
        text += std::string(std::size_t(depth) * 3, ' ');
        text += fmt::format(f, std::forward<A>(a)...);
        text += '\n';
    }
};

inline std::string term_name(const node& n) { return "`" + n.label + "`"; }

inline void render_forward(const node& n, writer& w, int depth) {
    switch (n.kind) {
    case node::leaf:
        w.line(depth, "1. {} ({} → {})", term_name(n), n.in, shape(n.out, n.out_width));
        for (const auto& s : n.forward) w.line(depth + 1, "- {}", s);
        break;
    case node::chain:
        for (const auto& c : n.children) render_forward(c, w, depth);
        break;
    case node::group:
        w.line(depth, "1. {} ({} → {}), the chain:", term_name(n), n.in, shape(n.out, n.out_width));
        render_forward(n.children[0], w, depth + 1);
        break;
    case node::sum:
        w.line(depth, "1. {} ({} → {}): both branches read {}", term_name(n), n.in, shape(n.out, n.out_width), n.in);
        for (const auto& c : n.children) render_forward(c, w, depth + 1);
        w.line(depth + 1, "1. add: {} = {} + {}, one loop over n·{}", n.out, n.mids[0], n.mids[1], n.out_width);
        break;
    case node::residual:
        w.line(depth, "1. {} ({} → {}); the body writes {}", term_name(n), n.in, shape(n.out, n.out_width),
               shape(n.mids[0], n.out_width));
        render_forward(n.children[0], w, depth + 1);
        w.line(depth + 1, "1. add: {} = {} + {}, one loop over n·{}", n.out, n.in, n.mids[0], n.out_width);
        break;
    case node::repeat:
        w.line(depth, "1. {} ({} → {}): a run-time loop over l = 0 .. {}; layer l reads h_l (h_0 = {}) and writes "
                      "h_(l+1) (h_{} = {}); its parameters start at l × {}, its activations at l × {}",
               term_name(n), n.in, shape(n.out, n.out_width), n.layers - 1, n.in, n.layers, n.out,
               with_commas(n.layer_params), with_commas(n.layer_acts));
        render_forward(n.children[0], w, depth + 1);
        break;
    }
}

inline void render_backward(const node& n, writer& w, int depth) {
    // "∂out → ∂in +=": what a backward reads and where it accumulates
    const auto flow = [](const node& m) {
        return m.in == "tokens" ? fmt::format("∂{}; it reads tokens: no input gradient", m.out)
                                : fmt::format("∂{} → ∂{} +=", m.out, m.in);
    };
    switch (n.kind) {
    case node::leaf:
        w.line(depth, "1. {} ({})", term_name(n), flow(n));
        for (const auto& s : n.backward) w.line(depth + 1, "- {}", s);
        break;
    case node::chain:
        for (std::size_t k = n.children.size(); k-- > 0;) {
            if (k > 0)
                w.line(depth, "1. zero ∂{} [n][{}]: a chain intermediate's gradient, zeroed once, just before its only "
                              "consumer ({}) accumulates into it",
                       n.mids[k - 1], n.children[k].in_width,
                       n.children[k].label.empty() ? std::string("the next term") : term_name(n.children[k]));
            render_backward(n.children[k], w, depth);
        }
        break;
    case node::group:
        w.line(depth, "1. {} ({}), the chain in reverse:", term_name(n), flow(n));
        render_backward(n.children[0], w, depth + 1);
        break;
    case node::sum:
        w.line(depth, "1. {} ({}): both branches are given ∂{} itself as the gradient of their outputs "
                      "{} and {} (one buffer, nothing copied){}",
               term_name(n), flow(n), n.out, n.mids[0], n.mids[1],
               n.in == "tokens" ? std::string() : "; both accumulate into ∂" + n.in + ", which is summed once");
        for (const auto& c : n.children) render_backward(c, w, depth + 1);
        break;
    case node::residual:
        w.line(depth, "1. {} ({}): {} is used twice, its gradient is summed once, in place", term_name(n), flow(n), n.in);
        w.line(depth + 1, "1. skip path: ∂{} += ∂{}, one loop over n·{} (`add_into`)", n.in, n.out, n.out_width);
        {
            node body = n.children[0];
            w.line(depth + 1, "1. the body, given ∂{} as the gradient of its output {}, accumulates into the same ∂{}:",
                   n.out, n.mids[0], n.in);
            render_backward(body, w, depth + 2);
        }
        break;
    case node::repeat:
        w.line(depth, "1. {} ({}): a run-time loop over l = {} .. 0; before layer l > 0 runs, ∂h_l "
                      "(the gradient of a layer boundary) is zeroed once; layer 0 accumulates into ∂{}",
               term_name(n), flow(n), n.layers - 1, n.in);
        render_backward(n.children[0], w, depth + 1);
        break;
    }
}

// The leaves of a summary: rows not followed by a deeper row.
inline std::vector<std::string> summary_leaves(const std::vector<gflow::summary_row>& rows) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (i + 1 == rows.size() || rows[i + 1].depth <= rows[i].depth) out.push_back(rows[i].label);
    return out;
}

// A table cell: a '|' would end the cell, even inside a code span (GitHub's tables).
inline std::string cell(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '|') out += '\\';
        out += c;
    }
    return out;
}

inline std::string indent(int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "&emsp;";
    return s;
}

// ---- the page ---------------------------------------------------------------------------------------

struct page_info {
    std::string title;
    std::string expression;     // how the model is named in C++
    std::string intro;          // prose
    std::string source_path;    // the definition's file, for the excerpt marker
    std::string definition;     // the definition, verbatim from source_path
};

template <class Model>
std::string model_page(const page_info& info) {
    using graph = typename Model::graph;
    constexpr dims C = Model::config;
    const auto rows = Model::summary();
    const auto params = Model::parameters();

    context ctx;
    const node root = walk<typename Model::expression, C, 0>::make(ctx, "tokens", "logits");
    if (summary_leaves(rows) != ctx.leaf_labels)
        throw std::logic_error(fmt::format("{}: the schedule's leaves {} differ from the summary's leaves {}",
                                           info.title, ctx.leaf_labels, summary_leaves(rows)));
    std::size_t state_total = 0;
    for (const auto& st : ctx.state) state_total += st.scalars;
    if (state_total != Model::decode_state_count())
        throw std::logic_error(info.title + ": the leaves' decoding state does not add up to decode_state_count()");
    std::size_t param_total = 0;
    for (const auto& p : params) {
        if (p.offset != param_total) throw std::logic_error(info.title + ": the parameter table does not tile the arena");
        param_total += std::size_t(p.rows) * std::size_t(p.cols);
    }
    if (param_total != Model::parameter_count()) throw std::logic_error(info.title + ": parameter count mismatch");

    const std::size_t logits = 2 * std::size_t(C.block) * C.vocab;
    const std::size_t acts = Model::activation_count();
    const std::size_t state = Model::decode_state_count();
    const std::size_t P = Model::parameter_count();

    std::string s;
    s += "<!-- Generated by examples/docs/model_pages.cpp from the model's type. Do not edit: run "
         "`ninja -C build docs`. tests/docs checks that this page is current. -->\n";
    s += fmt::format("# {}\n\n", info.title);
    s += fmt::format("`{}`: vocabulary {}, block {}, width {}; **{} parameters**, {} scalars of activation memory "
                     "per sequence, {} scalars of decoding state.\n\n",
                     info.expression, with_commas(std::size_t(C.vocab)), with_commas(std::size_t(C.block)),
                     with_commas(std::size_t(C.width)), with_commas(P), with_commas(acts), with_commas(state));
    s += info.intro + "\n\n";
    s += "Every number and every line of the tables and schedules below is computed from the model's type by "
         "the library's own passes (`summary()`, `parameters()`, `activation_count()`, "
         "`decode_state_count()`) and by a walk over the expression's terms; `n ≤ " +
         std::to_string(C.block) + "` is the number of positions in a pass, the only size known at run time.\n\n";

    s += "## Definition\n\n";
    s += fmt::format("<!-- from: {} -->\n```cpp\n{}```\n\n", info.source_path, info.definition);

    s += "## The graph (model summary)\n\n";
    s += "The printing pass, `summary()`: every term with its widths per position, its parameters and its "
         "activation memory for one sequence of block size, in two parts (`core/memory.hpp`): what it *keeps* "
         "from forward for backward, and the *scratch* it needs only within a call. A composite row counts its "
         "children, plus what it owns (a chain keeps its intermediates and needs their gradients as scratch; a "
         "residual keeps its body's output); its scratch is its own plus the largest of its children's, since "
         "the children run one after another in the same space. The buffers column names what a term itself "
         "holds, with its shape.\n\n";
    s += "| term | in → out | parameters | kept (scalars) | scratch (scalars) | its own buffers |\n"
         "|---|---|--:|--:|--:|---|\n";
    for (const auto& r : rows)
        s += fmt::format("| {}{} | {} → {} | {} | {} | {} | {} |\n", indent(r.depth), cell("`" + r.label + "`"), r.in_width,
                         r.out_width, with_commas(r.params), with_commas(r.activations), with_commas(r.scratch),
                         cell(r.buffers));
    s += fmt::format("| logits and their gradient, [T][V] twice (the network) | | | {} | | |\n", with_commas(logits));
    s += fmt::format("| **total** (`activation_count()`: kept + the outermost scratch + logits) | | **{}** | **{}** | **{}** | |\n\n",
                     with_commas(P), with_commas(gflow::kept_of<graph>() + logits), with_commas(gflow::scratch_of<graph>()));

    s += "## Parameters\n\n";
    s += "`parameters()`: the names, shapes and offsets (in scalars) into the one parameter arena, in the order "
         "of the expression. Gradients and Adam's two moments use the same layout.\n\n";
    s += "| name | shape | offset | scalars |\n|---|---|--:|--:|\n";
    for (const auto& p : params)
        s += fmt::format("| `{}` | [{}][{}] | {} | {} |\n", p.name, p.rows, p.cols, with_commas(p.offset),
                         with_commas(std::size_t(p.rows) * std::size_t(p.cols)));
    s += fmt::format("| **total** | | | **{}** |\n\n", with_commas(P));

    s += "## Forward schedule\n\n";
    s += "The order in which the loops run in one forward pass (`network::loss_and_gradient`), the leaves of the "
         "summary in order. Buffer names: `x` a chain's intermediate, `b` a residual body's output, `s` a branch "
         "of a sum, `h_l` a layer boundary; each lives at a compile-time offset in the activation arena. "
         "Everything is inlined into the caller: there is no tape, no virtual call, no allocation.\n\n";
    {
        writer w;
        render_forward(root, w, 0);
        w.line(0, "1. cross-entropy (`network`): per position, the maximum logit, one exp per logit written into the "
                  "gradient row, the log of the sum; ∂logits = (softmax − onehot) / n formed in the same pass");
        s += w.text + "\n";
    }

    s += "## Backward schedule\n\n";
    s += "The same terms in reverse. The gradient convention (docs/design.md): every backward *accumulates* "
         "(`+=`) into its gradient outputs, and the owner of a gradient buffer zeroes it once, just before its "
         "only consumer runs; so a value used twice (a residual's input) gets its gradient summed once, in place, "
         "without walking the graph again.\n\n";
    {
        writer w;
        w.line(0, "1. the network zeroes all {} parameter gradients, once per step (∂logits are already formed "
                  "by the cross-entropy)",
               with_commas(P));
        render_backward(root, w, 0);
        w.line(0, "1. Adam updates the {} parameters in one loop (`optim/adam.hpp`)", with_commas(P));
        s += w.text + "\n";
    }

    s += "## Fused loops\n\n";
    s += "Where several operations run in one loop. Elementwise work is written once as a function "
         "(`core/elementwise.hpp`): the forward evaluates it on scalars, the backward on dual numbers, each in a "
         "single loop. Matrix products are `kernels::matvec_rows` (a vector register of partial sums per "
         "output) and its backward (one unit-stride pass updating a row of ∂W and all of ∂x).\n\n";
    s += "Adjacent elementwise terms of a chain (`relu >> gelu`) are bound as one term, their composition in one "
         "loop each way, and the chain keeps none of their intermediates (`terms/chain.hpp`); ";
    s += ctx.fused_runs == 0
             ? std::string("no two elementwise terms of this model are adjacent in a chain.\n\n")
             : fmt::format("this model has {} such run{}, which save {} activation scalars ({} KiB f32) in all.\n\n",
                           ctx.fused_runs, ctx.fused_runs == 1 ? "" : "s", with_commas(ctx.fused_saved),
                           kib(ctx.fused_saved, 4));
    s += "| where | what | forward | backward |\n|---|---|---|---|\n";
    for (const auto& f : ctx.fused)
        s += fmt::format("| {} | {} | {} | {} |\n", cell("`" + f.where + "` → " + f.out), cell(f.what), cell(f.forward),
                         cell(f.backward));
    s += "\n";

    s += "## Memory\n\n";
    s += "| what | scalars | f32 KiB | f64 KiB |\n|---|--:|--:|--:|\n";
    s += fmt::format("| parameters (`parameter_count()`) | {} | {} | {} |\n", with_commas(P), kib(P, 4), kib(P, 8));
    s += fmt::format("| parameters, gradients and Adam's two moments (4 ×) | {} | {} | {} |\n", with_commas(4 * P),
                     kib(4 * P, 4), kib(4 * P, 8));
    s += fmt::format("| activations of one sequence (`activation_count()`) | {} | {} | {} |\n", with_commas(acts),
                     kib(acts, 4), kib(acts, 8));
    s += fmt::format("| of which kept by the terms for backward (`kept_size`) | {} | {} | {} |\n",
                     with_commas(gflow::kept_of<graph>()), kib(gflow::kept_of<graph>(), 4), kib(gflow::kept_of<graph>(), 8));
    s += fmt::format("| of which the terms' scratch, reused from term to term (`scratch_size`) | {} | {} | {} |\n",
                     with_commas(gflow::scratch_of<graph>()), kib(gflow::scratch_of<graph>(), 4), kib(gflow::scratch_of<graph>(), 8));
    s += fmt::format("| of which logits and their gradient | {} | {} | {} |\n", with_commas(logits), kib(logits, 4),
                     kib(logits, 8));
    if (ctx.fused_saved > 0)
        s += fmt::format("| not allocated: the intermediates of fused elementwise runs, and their gradients | {} | {} | "
                         "{} |\n",
                         with_commas(ctx.fused_saved), kib(ctx.fused_saved, 4), kib(ctx.fused_saved, 8));
    s += fmt::format("| decoding state (`decode_state_count()`) | {} | {} | {} |\n", with_commas(state),
                     kib(state, 4), kib(state, 8));
    const std::size_t total = 4 * P + acts + state;
    s += fmt::format("| **a network, all of it** (allocated once; a training step allocates nothing) | **{}** | "
                     "**{}** | **{}** |\n\n",
                     with_commas(total), kib(total, 4), kib(total, 8));
    if (!ctx.state.empty()) {
        s += "What decoding keeps between generated tokens:\n\n";
        for (const auto& st : ctx.state)
            s += fmt::format("- `{}`: {}: {} scalars\n", st.where, st.what, with_commas(st.scalars));
        s += "\n";
    }
    return s;
}

}  // namespace gdocs
