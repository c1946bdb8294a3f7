// gflow/model.hpp: a model is a term expression bound to its static sizes.
//
//   constexpr auto m = gflow::model<vocab<27>, block<16>, width<16>>(expr);
//   static_assert(m.parameter_count() == 3840);
//
// Everything here is derived from the expression's type at compile time: the graph (each term
// bound to its input width), the parameter count, the activation memory, the decoding state.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gflow/core/dims.hpp>
#include <gflow/core/term.hpp>

namespace gflow {

// The signature of a parameter table: "name[rows,cols]" of each parameter, sorted by name, joined
// by spaces; two tables have one signature exactly when they hold the same names and shapes.
inline std::string signature_of(std::vector<param_desc> table) {
    std::sort(table.begin(), table.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::string s;
    for (const auto& d : table) s += fmt::format("{}{}[{},{}]", s.empty() ? "" : " ", d.name, d.rows, d.cols);
    return s;
}

template <dims C, term Expr>
struct model_t {
    static_assert(C.vocab >= 2, "gflow::model: the vocabulary needs at least one symbol and BOS");
    static_assert(C.block >= 1, "gflow::model: the block size must be at least 1");
    static_assert(C.width >= 1, "gflow::model: the width must be at least 1");
    static_assert(C.batch >= 1, "gflow::model: batch<B> needs at least one sequence");

    using expression = Expr;
    using graph = bind<Expr, C, 0>;   // a model reads tokens: its input width is 0
    static_assert(graph::out_width == C.vocab,
                  "gflow::model: the expression must end in logits over the vocabulary (lm_head)");

    static constexpr dims config = C;
    static constexpr std::size_t parameter_count() { return graph::param_size; }
    // Scalars of activation memory for a full batch (one sequence of block size unless the model
    // says batch<B>), logits and their gradient included; a network training by operation
    // (step_schedule) holds exactly this much.
    static constexpr std::size_t activation_count() {
        return graph::act_size + 2 * std::size_t(C.rows()) * C.vocab;
    }
    static constexpr std::size_t decode_state_count() { return graph::state_size; }
    // Floating-point operations of training on one sequence of `predictions` positions, forward
    // and backward (core/term.hpp's flop_count: the products; the roofline line of benchmarks).
    // A batch's step is the sum over its documents.
    static constexpr flop_count flops(long predictions) { return flops_of<graph>(predictions); }

    static std::vector<param_desc> parameters() {
        std::vector<param_desc> out;
        graph::for_each_param([&](const param_desc& d) { out.push_back(d); }, 0, "");
        return out;
    }
    static std::vector<summary_row> summary() {
        std::vector<summary_row> rows;
        graph::summarize(rows, 0);
        return rows;
    }
    // What a checkpoint must match: the parameter table, each parameter's name and shape, sorted
    // by name ("layer0.W_red[4,16] lm_head[27,16] ..."); what a strict loader (PyTorch's
    // load_state_dict(strict=True)) compares. Not the display labels: a model written with
    // repeat<N> and the same model written with layers(...) have one signature.
    static std::string signature() { return signature_of(parameters()); }
    // A one-line description of the structure (the summary's labels), for people.
    static std::string description() {
        std::string s = fmt::format("vocab={} block={} width={} params={} |", C.vocab, C.block,
                                    C.width, parameter_count());
        for (const auto& row : summary()) s += fmt::format(" {}:{}", row.depth, row.label);
        return s;
    }
};

// gflow::model<vocab<V>, block<T>, width<d>>(expr), or with batch<B> last: a training step
// then takes up to B sequences (network::train_step over a span of documents).
template <class Vocab, class Block, class Width, class Batch = batch<1>, term Expr>
constexpr model_t<dims{Vocab::value, Block::value, Width::value, Batch::value}, Expr> model(Expr) {
    return {};
}

// The same model taking up to B sequences a step: gflow::with_batch<8>(names::model(mixer)).
// Its parameters, names and checkpoints are the model's own; only the activation memory grows.
template <int B, dims C, term Expr>
constexpr model_t<dims{C.vocab, C.block, C.width, B}, Expr> with_batch(model_t<C, Expr>) {
    return {};
}

}  // namespace gflow
