// The Tiny Shakespeare model with the attention mixer at width 256, 6 layers, f32 and f64.
#include "shakespeare_train.hpp"

shakespeare::result shakespeare::run_attention_256(const options& o, const text& t) {
    constexpr auto model = attention_model<256>();
    return o.dtype == "f64" ? train<double>(model, o, t, "attention") : train<float>(model, o, t, "attention");
}
