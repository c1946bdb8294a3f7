// A residual body must keep the width: rmsnorm >> linear<32> maps 16 to 32.
#include <gflow/gflow.hpp>
using namespace gflow::terms;
constexpr auto bad = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> residual(rmsnorm >> linear<32>) >> lm_head);
int main() { return int(bad.parameter_count()); }
