#include "scaling_models.hpp"

scaling::results scaling::grassmann_64(const settings& s) {
    return {measure_lengths<64, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096>(grassmann_mixer, "grassmann", s),
            measure_generation(model<4096, 64>(grassmann_mixer), "grassmann", s)};
}
