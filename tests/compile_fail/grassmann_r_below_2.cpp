// A Plücker coordinate needs two dimensions: r = 1 is refused where the mixer is written.
#include <gflow/gflow.hpp>
using namespace gflow::terms;
constexpr auto bad_mixer = grassmann<1>(offsets<1, 2>);
int main() { return 0; }
