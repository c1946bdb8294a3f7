#include "scaling_models.hpp"

scaling::results scaling::attention_16(const settings& s) {
    return {measure_lengths<16, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096>(attention_mixer, "attention", s),
            measure_generation(model<4096, 16>(attention_mixer), "attention", s)};
}
