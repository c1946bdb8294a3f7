// A Grassmann layer with no offsets pairs nothing.
#include <gflow/gflow.hpp>
using namespace gflow::terms;
constexpr auto bad_mixer = grassmann<4>(offsets<>);
int main() { return 0; }
