// An elementwise map of two values of different widths: refused where the expression is bound.
#include <gflow/gflow.hpp>
#include <gflow/terms/expression.hpp>

using namespace gflow::terms;
namespace expr = gflow::expr;
constexpr auto mismatched = expression<"mismatched">([](auto h, auto) {
    return expr::map([](auto a, auto b) { return a * b; }, h, expr::linear<"W", 4>(h));   // 16 and 4
});
constexpr auto m = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> residual(rmsnorm >> mismatched) >> lm_head);
int main() { return int(m.parameter_count()); }
