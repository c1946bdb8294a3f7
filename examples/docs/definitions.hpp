// definitions.hpp: the model definitions the docs show, as text. Each string is a verbatim excerpt
// of the file named beside it; tests/docs/test_definitions.cpp fails when it no longer is.
#pragma once
#include <string_view>

namespace gdocs {

// examples/names_model.hpp
inline constexpr std::string_view names_model_path = "examples/names_model.hpp";
inline constexpr std::string_view names_model_source = R"src(template <int Layers = 1>
constexpr auto model(auto mixer) {
    return gflow::model<vocab<27>, block<16>, width<16>>(
        (token_embedding + position_embedding) >> rmsnorm
        >> repeat<Layers>(residual(rmsnorm >> mixer)
                       >> residual(rmsnorm >> ffn<4>(relu)))
        >> lm_head);
}

constexpr auto grassmann_mixer = grassmann<4>(offsets<1, 2, 4, 8, 12, 16>);
constexpr auto attention_mixer = attention<4>;
)src";

// examples/paper_model.hpp
inline constexpr std::string_view paper_model_path = "examples/paper_model.hpp";
inline constexpr std::string_view paper_model_source = R"src(template <int V, int T, int D, int R, int Layers, plucker_norm Norm = plucker_norm::max>
constexpr auto model() {
    return gflow::model<vocab<V>, block<T>, width<D>>(
        (token_embedding + position_embedding)
        >> repeat<Layers>(post_norm_block(grassmann_paper<R, Norm>(offsets<1, 2, 4, 8, 12, 16>),
                                          affine<4 * D, "mlp_fc1"> >> gelu >> affine<D, "mlp_fc2">))
        >> lm_head);
}

// WordPiece vocabulary (30,522), L = 128, d = 256, r = 32, 6 layers.
constexpr auto full_scale = model<30522, 128, 256, 32, 6>();
)src";

}  // namespace gdocs
