// gflow/terms/post_norm.hpp: the paper's post-LN block (docs/benchmarks.md#paper-model),
// built from existing terms, so its backward and decoding come with them:
//
//   h_mix = LayerNorm₁(mixer(h))                  no residual around the mixer: the paper's
//                                                 mixer blends h itself (α ⊙ h + (1-α) ⊙ g)
//   h'    = LayerNorm₂(h_mix + ffn(h_mix))
//
//   post_norm_block(mixer, ffn) = mixer >> layernorm<"ln1"> >> residual(ffn) >> layernorm<"ln2">
//
// The two LayerNorms are named ln1 and ln2 (their tensors ln1.gain, ln1.bias, ln2.gain,
// ln2.bias; inside repeat<N>, layer0.ln1.gain ...); other names can be given as template
// arguments. The paper trains with dropout 0.1 after the mixer and in the FFN; it is omitted:
// training in gflow is deterministic (same seed, same weights, same losses), and dropout would
// need a random mask per step in the activation memory.
//
// The pre-norm form that reproductions prefer needs no helper:
//   residual(layernorm<"ln1"> >> mixer) >> residual(layernorm<"ln2"> >> ffn)
#pragma once
#include <gflow/core/term.hpp>
#include <gflow/terms/chain.hpp>
#include <gflow/terms/layernorm.hpp>
#include <gflow/terms/residual.hpp>

namespace gflow::terms {

// post_norm_block(grassmann_paper<32>(offsets<1, 2, 4>), affine<1024, "mlp_fc1"> >> gelu >>
//                 affine<256, "mlp_fc2">). The FFN must keep the width
// (gflow::residual checks it where the block is bound); the mixer should be a gflow::mixer.
template <fixed_string Norm1 = "ln1", fixed_string Norm2 = "ln2", term Mixer, term FFN>
constexpr auto post_norm_block(Mixer mixer, FFN ffn) {
    return mixer >> layernorm<Norm1> >> gflow::residual(ffn) >> layernorm<Norm2>;
}

}  // namespace gflow::terms
