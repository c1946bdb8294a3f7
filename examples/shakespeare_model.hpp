// Benchmark 3, Tiny Shakespeare at the paper's width (docs/benchmarks.md#shakespeare): the names
// model's pre-norm skeleton with a final RMSNorm before the head (as GPT-2's ln_f, no parameters),
// at the character level (65 symbols, no BOS), block 256, taking up to 8 windows a step.
// Width 256 is the paper's (r = 32, 8 heads); widths 64 (r = 16, 4 heads) and 128 (r = 32,
// 4 heads) are for speed tables. The weights start from Normal(0, 0.02²) (init_std below).
#pragma once
#include <gflow/gflow.hpp>
#include <gflow/terms/stack.hpp>

namespace shakespeare {
using namespace gflow::terms;

inline constexpr int vocab_size = 65;     // the distinct characters of tinyshakespeare.txt
inline constexpr int block_size = 256;
inline constexpr int max_batch = 8;       // batch<8>: a step takes 1 to 8 windows (--batch)
inline constexpr double init_std = 0.02;

// One pre-norm layer around a mixer: the mixer, then the FFN, each on a residual.
constexpr auto layer(auto mixer) {
    return residual(rmsnorm >> mixer) >> residual(rmsnorm >> ffn<4>(relu));
}

// Embeddings and a norm in, `body` (the layers), a final norm, the head out.
template <int Width>
constexpr auto with_layers(auto body) {
    return gflow::model<vocab<vocab_size>, block<block_size>, width<Width>, batch<max_batch>>(
        (token_embedding + position_embedding) >> rmsnorm >> body >> rmsnorm >> lm_head);
}

// The mixers at each width: r = 16 at width 64, else 32; 4 heads below width 256, 8 at 256.
template <int Width>
constexpr auto grassmann_mixer = grassmann<(Width <= 64 ? 16 : 32)>(offsets<1, 2, 4, 8, 12, 16>);
template <int Width>
constexpr auto attention_mixer = attention<(Width >= 256 ? 8 : 4)>;

template <int Width, int Layers = 6>
constexpr auto grassmann_model() {
    return with_layers<Width>(repeat<Layers>(layer(grassmann_mixer<Width>)));
}
template <int Width, int Layers = 6>
constexpr auto attention_model() {
    return with_layers<Width>(repeat<Layers>(layer(attention_mixer<Width>)));
}

// --layers 12: the paper's 12 layers with one Grassmann offset per layer (as parens::paper_schedule).
template <int Width>
constexpr auto paper_schedule() {
    return with_layers<Width>(schedule<1, 1, 2, 2, 4, 4, 8, 8, 12, 12, 16, 16>(
        [](auto window) { return layer(grassmann<(Width <= 64 ? 16 : 32)>(window)); }));
}

// docs/benchmarks.md#shakespeare: 65 x 256 embeddings, 256 x 256 positions, 65 x 256 head =
// 98,816; a Grassmann layer 790,528 (W_red 32 x 256, W_plu 256 x 496, two 256 x 256 gates, FFN
// 2 x 1024 x 256), an attention layer 786,432.
static_assert(grassmann_model<256>().parameter_count() == 4'841'984);
static_assert(attention_model<256>().parameter_count() == 4'817'408);
static_assert(paper_schedule<256>().parameter_count() == 9'585'152);
static_assert(grassmann_model<256>().parameter_count() == 98'816 + 6 * 790'528);

}  // namespace shakespeare
