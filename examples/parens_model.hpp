// Benchmark 2 (docs/benchmarks.md#parens), parenthesis matching: the same skeleton as the names
// model (names_model.hpp) with the task's sizes: vocabulary 3 ('(' = 0, ')' = 1, BOS = 2), block 64, width 16, and the
// Grassmann window [1, 2, 4, 8, 16]. The layer count is a template argument; the paper's 12-layer
// schedule, one offset per layer, is a compile-time parameter of the model as well.
#pragma once
#include <gflow/gflow.hpp>
#include <gflow/terms/stack.hpp>

namespace parens {
using namespace gflow::terms;

// One pre-norm layer around a mixer: the mixer, then the FFN, each on a residual.
constexpr auto layer(auto mixer) {
    return residual(rmsnorm >> mixer) >> residual(rmsnorm >> ffn<4>(relu));
}

// Embeddings and a norm in, `body` (the layers), the head out.
constexpr auto with_layers(auto body) {
    return gflow::model<vocab<3>, block<64>, width<16>>(
        (token_embedding + position_embedding) >> rmsnorm >> body >> lm_head);
}

template <int Layers = 1>
constexpr auto model(auto mixer) {
    return with_layers(repeat<Layers>(layer(mixer)));
}

constexpr auto grassmann_mixer = grassmann<4>(offsets<1, 2, 4, 8, 16>);
constexpr auto attention_mixer = attention<4>;

// The paper's 12 layers with one offset per layer: layer l pairs t with t - δ_l only, and the
// windows compose across layers (receptive field 1+1+2+2+...+16 = 86 positions > block 64).
constexpr auto paper_schedule = with_layers(
    schedule<1, 1, 2, 2, 4, 4, 8, 8, 12, 12, 16, 16>([](auto window) { return layer(grassmann<4>(window)); }));

// '(' ')' and BOS: 3 x 16 embeddings, 64 x 16 positions, 3 x 16 head = 1,120; a layer 2,720
// (Grassmann) or 3,072 (attention).
static_assert(model(grassmann_mixer).parameter_count() == 3840);
static_assert(model(attention_mixer).parameter_count() == 4192);
static_assert(paper_schedule.parameter_count() == 1120 + 12 * 2720);

}  // namespace parens
