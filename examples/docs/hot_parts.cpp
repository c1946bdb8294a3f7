// hot_parts.cpp: the hot parts of the names models as out-of-line functions with plain C names,
// so that their machine code can be read (scripts/docs.sh disassembles this file's object into
// docs/generated/asm_*.s and counts what is in it: docs/generated/machine_code.md).
//
// Each function is one call into the library, instantiated for float exactly as the names models
// instantiate it (dims{27, 16, 16}, width 16) and compiled with the project's flags (-O3
// -march=native -fno-math-errno -fopenmp-simd): what the compiler makes of the terms' loops.
#include <gflow/core/dims.hpp>
#include <gflow/core/elementwise.hpp>
#include <gflow/terms/attention.hpp>
#include <gflow/terms/grassmann.hpp>

namespace {
constexpr gflow::dims names_sizes{27, 16, 16};
using grassmann = gflow::bind<gflow::terms::grassmann_t<4, 1, 2, 4, 8, 12, 16>, names_sizes, 16>;
using attention = gflow::bind<gflow::terms::attention_t<4>, names_sizes, 16>;
using gate_and_mix = gflow::terms::detail::gate_sum_and_mix;
}  // namespace

extern "C" {

// The Grassmann mixer: W_red, the fused Plücker pass (coordinates, normalisation, mean), W_plu,
// the gate's two matrices and the gate-and-mix map.
void gflow_grassmann_forward(const gflow::pass& p, const float* w, float* a, const float* h, float* y) {
    grassmann::forward<float>(p, w, a, h, y);
}
void gflow_grassmann_backward(const gflow::pass& p, const float* w, float* dw, float* a, const float* h,
                              const float* y, const float* dy, float* dh) {
    grassmann::backward<float>(p, w, dw, a, h, y, dy, dh);
}

// The gate and mix alone: y = α ⊙ h + (1 - α) ⊙ g with α = sigmoid(a + b), a = W_gate_h h and
// b = W_gate_g g, and its generated backward (dual numbers with 4 tangents).
void gflow_gate_and_mix_forward(int count, float* y, const float* g, const float* h, const float* a, const float* b) {
    gflow::kernels::map_forward<gate_and_mix>(count, y, g, h, a, b);
}
void gflow_gate_and_mix_backward(int count, const float* dy, const float* g, const float* h, const float* a,
                                 const float* b, float* dg, float* dh, float* da, float* db) {
    gflow::kernels::map_backward<gate_and_mix, 4>(count, dy, {g, h, a, b}, {dg, dh, da, db});
}

// Causal attention, 4 heads of 4: q, k, v, scores, softmax, weighted sum, W_o.
void gflow_attention_forward(const gflow::pass& p, const float* w, float* a, const float* h, float* y) {
    attention::forward<float>(p, w, a, h, y);
}
void gflow_attention_backward(const gflow::pass& p, const float* w, float* dw, float* a, const float* h,
                              const float* y, const float* dy, float* dh) {
    attention::backward<float>(p, w, dw, a, h, y, dy, dh);
}

}  // extern "C"
