// Benchmark 1, name generation (docs/benchmarks.md#names): the model of microGrassmann, as one
// expression.
// The mixer is one word; the layer count is a template argument.
#pragma once
#include <gflow/gflow.hpp>

namespace names {
using namespace gflow::terms;

template <int Layers = 1>
constexpr auto model(auto mixer) {
    return gflow::model<vocab<27>, block<16>, width<16>>(
        (token_embedding + position_embedding) >> rmsnorm
        >> repeat<Layers>(residual(rmsnorm >> mixer)
                       >> residual(rmsnorm >> ffn<4>(relu)))
        >> lm_head);
}

constexpr auto grassmann_mixer = grassmann<4>(offsets<1, 2, 4, 8, 12, 16>);
constexpr auto attention_mixer = attention<4>;

static_assert(model(grassmann_mixer).parameter_count() == 3840);
static_assert(model(attention_mixer).parameter_count() == 4192);

}  // namespace names
