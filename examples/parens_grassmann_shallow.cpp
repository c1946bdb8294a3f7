#include "parens_model.hpp"
#include "parens_runs.hpp"

gflow::bench::result parens::run_grassmann_shallow(const gflow::bench::options& o, const gflow::bench::corpus& c) {
    return gflow::bench::dispatch<1, 2>(o, [&]<int L, class S>() {
        return gflow::bench::run<S>(model<L>(grassmann_mixer), o, c, task(), "grassmann");
    });
}
