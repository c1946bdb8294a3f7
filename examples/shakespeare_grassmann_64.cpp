// The Tiny Shakespeare model with the grassmann mixer at width 64, 6 layers, f32 and f64.
#include "shakespeare_train.hpp"

shakespeare::result shakespeare::run_grassmann_64(const options& o, const text& t) {
    constexpr auto model = grassmann_model<64>();
    return o.dtype == "f64" ? train<double>(model, o, t, "grassmann") : train<float>(model, o, t, "grassmann");
}
