// The two halves of the names benchmark, one per translation unit (each mixer at 1, 2 and 4
// layers, in f32 and f64), so that no file takes long to compile.
#pragma once
#include <gflow/bench/run.hpp>

namespace names {
inline constexpr int built_layers[] = {1, 2, 4};
gflow::bench::task task();
gflow::bench::result run_grassmann(const gflow::bench::options&, const gflow::bench::corpus&);
gflow::bench::result run_attention(const gflow::bench::options&, const gflow::bench::corpus&);
}  // namespace names
