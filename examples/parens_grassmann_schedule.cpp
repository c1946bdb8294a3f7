#include "parens_model.hpp"
#include "parens_runs.hpp"

gflow::bench::result parens::run_grassmann_schedule(const gflow::bench::options& o, const gflow::bench::corpus& c) {
    return gflow::bench::dispatch<schedule_layers>(o, [&]<int L, class S>() {
        return gflow::bench::run<S>(paper_schedule, o, c, task(), "grassmann");
    });
}
