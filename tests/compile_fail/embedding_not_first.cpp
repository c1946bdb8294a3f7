// An embedding reads tokens: one anywhere but at the start of a model is refused at compile time.
#include <gflow/gflow.hpp>

using namespace gflow::terms;

constexpr auto m = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> rmsnorm >> token_embedding >> lm_head);

int main() { return int(m.parameter_count()); }
