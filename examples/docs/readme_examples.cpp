// readme_examples: the code of README.md and docs/index.md that no other program holds, compiled
// here exactly as those pages show it (tests/docs checks that each excerpt is in this file
// verbatim). Run, it trains the names model as the README does and writes names.safetensors in
// the current directory:
//   readme_examples [names.txt]      (default: the project's data/names.txt, from any directory)
#include <span>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <gflow/bench/bench.hpp>
#include <gflow/gflow.hpp>
#include <gflow/io/text_data.hpp>

#include "names_model.hpp"

namespace readme {
using namespace gflow::terms;

// A new elementwise term needs no hand-written backward (README.md).
constexpr auto gelu = elementwise<"gelu">([](auto x) { return x * sigmoid(1.702 * x); });
constexpr auto paper_ffn = ffn<4>(gelu);

// Swapping the mixer (docs/index.md): the model is a function of it.
constexpr auto with_grassmann = names::model(names::grassmann_mixer);
constexpr auto with_attention = names::model(names::attention_mixer);
constexpr auto two_layers = names::model<2>(names::attention_mixer);
constexpr auto wider_planes = names::model(grassmann<6>(offsets<1, 2, 3, 4>));
static_assert(with_grassmann.parameter_count() == 3840 && with_attention.parameter_count() == 4192);
static_assert(two_layers.parameter_count() == 7264 && wider_planes.parameter_count() == 4016);

// Training, sampling and saving (README.md).
std::vector<int> train(const std::vector<std::vector<int>>& docs) {
    auto net = gflow::instantiate<float>(names::model(names::grassmann_mixer), /*seed*/ 42);
    gflow::adam opt{.lr = 0.01, .beta1 = 0.85, .beta2 = 0.99, .decay_steps = 3000};
    for (int step = 0; step < 3000; ++step) net.train_step(docs[step % docs.size()], opt, step);
    gflow::rng gen(1);
    std::vector<int> name = net.sample(gen, /*bos*/ 26, {.temperature = 0.5});
    gflow::save_checkpoint(net, "names.safetensors");
    return name;
}

}  // namespace readme

int main(int argc, char** argv) try {
    static_assert(decltype(readme::paper_ffn)::impl<gflow::dims{27, 16, 16}, 16>::param_size == 2 * 64 * 16);
    const std::string path =
        gflow::bench::default_data_file("names.txt", argc > 1 ? argv[1] : "", "the path as an argument");
    const auto names = gflow::io::read_documents(path);
    const auto chars = gflow::io::vocabulary::from_documents(names);
    std::vector<std::vector<int>> docs;
    for (std::size_t i = 0; i < names.documents.size(); ++i)
        docs.push_back(gflow::io::encode(chars, names.documents[i], path, i));
    const auto name = readme::train(docs);
    fmt::print("trained 3000 steps, wrote names.safetensors; a sampled name: {}\n", gflow::io::decode_utf8(chars, name));
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "readme_examples: {}\n", e.what());
    return 1;
}
