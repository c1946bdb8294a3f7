// An expression with two products of one parameter name: refused, in the DSL's words (a value used
// twice is written once, as a variable).
#include <gflow/gflow.hpp>
#include <gflow/terms/expression.hpp>

using namespace gflow::terms;
namespace expr = gflow::expr;
constexpr auto twice = expression<"twice">([](auto h, auto d) {
    return expr::linear<"W", d>(expr::linear<"W", 8>(h));   // two products, both called W
});
constexpr auto m = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> residual(rmsnorm >> twice) >> lm_head);
int main() { return int(m.parameter_count()); }
