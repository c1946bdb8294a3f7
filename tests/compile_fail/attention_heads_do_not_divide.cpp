// 3 heads cannot split width 16.
#include <gflow/gflow.hpp>
using namespace gflow::terms;
constexpr auto bad = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> residual(rmsnorm >> attention<3>) >> lm_head);
int main() { return int(bad.parameter_count()); }
