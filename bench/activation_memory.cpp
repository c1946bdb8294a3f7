// activation_memory: the activation memory of the benchmarks' models (scalars and f32 MiB per step
// at each model's batch), from their types: what the terms keep for backward, their scratch (reused
// from term to term, core/memory.hpp) and the total a network allocates (activation_count()).
// The same source compiles against a gflow without kept/scratch (it then prints the total alone),
// so that a figure from before the memory plan can be rerun.
//   activation_memory [--json]
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "names_model.hpp"
#include "paper_model.hpp"
#include "parens_model.hpp"
#include "shakespeare_model.hpp"

namespace {
bool json = false;

template <class Model>
void row(const char* name, Model) {
    using G = typename Model::graph;
    const double total = double(Model::activation_count()), mib = total * 4 / (1 << 20);
    long kept = -1, scratch = -1;
    if constexpr (requires { G::kept_size; G::scratch_size; }) {
        kept = long(G::kept_size);
        scratch = long(G::scratch_size);
    }
    if (json)
        fmt::print("{{\"model\": \"{}\", \"batch\": {}, \"kept\": {}, \"scratch\": {}, \"activation_count\": {}, "
                   "\"f32_mib\": {:.3f}}}\n",
                   name, Model::config.batch, kept, scratch, long(total), mib);
    else
        fmt::print("| {} | {} | {} | {} | {} | {:.2f} |\n", name, Model::config.batch,
                   kept < 0 ? std::string("-") : fmt::format("{}", kept),
                   scratch < 0 ? std::string("-") : fmt::format("{}", scratch), long(total), mib);
}
}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) json = json || !std::strcmp(argv[i], "--json");
    if (!json)
        fmt::print("| model | batch | kept (scalars) | scratch (scalars) | activation_count() | f32 MiB |\n"
                   "|---|--:|--:|--:|--:|--:|\n");
    row("names grassmann", names::model(names::grassmann_mixer));
    row("names attention", names::model(names::attention_mixer));
    row("parens grassmann", parens::model(parens::grassmann_mixer));
    row("parens attention", parens::model(parens::attention_mixer));
    row("parens 12-layer schedule", parens::paper_schedule);
    row("paper model (6 layers, d 256, r 32, block 128)", paper::model<30522, 128, 256, 32, 6>());
    row("shakespeare w256 grassmann (6 layers)", shakespeare::grassmann_model<256>());
    row("shakespeare w256 attention (6 layers)", shakespeare::attention_model<256>());
}
