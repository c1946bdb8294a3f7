// The paper's full-scale model (docs/benchmarks.md#paper-model; arXiv:2512.19428) as one
// expression: 6 post-LN layers of the paper's Grassmann mixer, offsets {1,2,4,8,12,16} in every
// layer, an FFN of 4d with GELU, a bias on every linear map.
//
//   h_mix = LayerNorm(α ⊙ h + (1-α) ⊙ g)        the mixer (grassmann_paper), then ln1
//   h'    = LayerNorm(h_mix + FFN(h_mix))        FFN = mlp_fc2 · gelu(mlp_fc1 · x + b) + b, then ln2
//
// Around the layers: token and position embeddings in, an untied lm_head out (gflow's; the
// paper's reproductions tie it to wte, which would save V d parameters). Dropout is omitted
// (gflow trains deterministically). The sizes are template arguments, so the tests check the
// same structure at a size where finite differences are cheap.
#pragma once
#include <gflow/gflow.hpp>
#include <gflow/terms/affine.hpp>
#include <gflow/terms/gelu.hpp>
#include <gflow/terms/grassmann_paper.hpp>
#include <gflow/terms/layernorm.hpp>
#include <gflow/terms/post_norm.hpp>

namespace paper {
using namespace gflow::terms;

template <int V, int T, int D, int R, int Layers, plucker_norm Norm = plucker_norm::max>
constexpr auto model() {
    return gflow::model<vocab<V>, block<T>, width<D>>(
        (token_embedding + position_embedding)
        >> repeat<Layers>(post_norm_block(grassmann_paper<R, Norm>(offsets<1, 2, 4, 8, 12, 16>),
                                          affine<4 * D, "mlp_fc1"> >> gelu >> affine<D, "mlp_fc2">))
        >> lm_head);
}

// WordPiece vocabulary (30,522), L = 128, d = 256, r = 32, 6 layers.
constexpr auto full_scale = model<30522, 128, 256, 32, 6>();

}  // namespace paper
