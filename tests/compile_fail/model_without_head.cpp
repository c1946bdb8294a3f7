// A model must end in logits over the vocabulary.
#include <gflow/gflow.hpp>
using namespace gflow::terms;
constexpr auto bad = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> rmsnorm);
int main() { return int(bad.parameter_count()); }
