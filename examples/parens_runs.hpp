// The parts of the parenthesis benchmark, one per translation unit so that no file takes long to
// compile: each mixer at 1 and 2 layers, at 4 and 6 layers (f32 and f64 each), and the paper's
// 12-layer Grassmann schedule (one offset per layer) on its own.
#pragma once
#include <string>

#include <gflow/bench/run.hpp>

namespace parens {
inline constexpr int built_layers[] = {1, 2, 4, 6, 12};
inline constexpr int schedule_layers = 12;   // --layers 12: the paper's schedule, Grassmann only
gflow::bench::task task();

gflow::bench::result run_grassmann_shallow(const gflow::bench::options&, const gflow::bench::corpus&);   // 1, 2
gflow::bench::result run_grassmann_deep(const gflow::bench::options&, const gflow::bench::corpus&);      // 4, 6
gflow::bench::result run_grassmann_schedule(const gflow::bench::options&, const gflow::bench::corpus&);  // 12
gflow::bench::result run_attention_shallow(const gflow::bench::options&, const gflow::bench::corpus&);   // 1, 2
gflow::bench::result run_attention_deep(const gflow::bench::options&, const gflow::bench::corpus&);      // 4, 6

// The run of `mixer` at o.layers, from the translation unit that holds that model.
inline gflow::bench::result run(const std::string& mixer, const gflow::bench::options& o,
                                const gflow::bench::corpus& c) {
    if (mixer == "attention") return o.layers <= 2 ? run_attention_shallow(o, c) : run_attention_deep(o, c);
    if (o.layers == schedule_layers) return run_grassmann_schedule(o, c);
    return o.layers <= 2 ? run_grassmann_shallow(o, c) : run_grassmann_deep(o, c);
}
}  // namespace parens
