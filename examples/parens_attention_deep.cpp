#include "parens_model.hpp"
#include "parens_runs.hpp"

gflow::bench::result parens::run_attention_deep(const gflow::bench::options& o, const gflow::bench::corpus& c) {
    return gflow::bench::dispatch<4, 6>(o, [&]<int L, class S>() {
        return gflow::bench::run<S>(model<L>(attention_mixer), o, c, task(), "attention");
    });
}
