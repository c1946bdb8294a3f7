// The Tiny Shakespeare model with the paper's 12-layer schedule (one Grassmann offset per layer),
// width 256, f32 and f64.
#include "shakespeare_train.hpp"

shakespeare::result shakespeare::run_grassmann_256_schedule(const options& o, const text& t) {
    constexpr auto model = paper_schedule<256>();
    return o.dtype == "f64" ? train<double>(model, o, t, "grassmann") : train<float>(model, o, t, "grassmann");
}
