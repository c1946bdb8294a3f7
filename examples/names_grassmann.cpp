#include "names_model.hpp"
#include "names_runs.hpp"

gflow::bench::result names::run_grassmann(const gflow::bench::options& o, const gflow::bench::corpus& c) {
    return gflow::bench::dispatch<1, 2, 4>(o, [&]<int L, class S>() {
        return gflow::bench::run<S>(model<L>(grassmann_mixer), o, c, task(), "grassmann");
    });
}
