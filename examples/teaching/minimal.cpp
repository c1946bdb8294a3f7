// minimal.cpp: microGrassmann in gflow, complete: the model, its training and a sampler.
// Usage: minimal [names.txt] [steps]            (annotated.cpp is the same program, explained)
#include <span>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <gflow/bench/bench.hpp>   // default_data_file: data/names.txt from any directory
#include <gflow/gflow.hpp>
#include <gflow/io/text_data.hpp>

using namespace gflow::terms;

constexpr auto model = gflow::model<vocab<27>, block<16>, width<16>>(
    (token_embedding + position_embedding) >> rmsnorm
    >> repeat<1>(residual(rmsnorm >> grassmann<4>(offsets<1, 2, 4, 8, 12, 16>))
                 >> residual(rmsnorm >> ffn<4>(relu)))
    >> lm_head);

int main(int argc, char** argv) try {
    const std::string path =
        gflow::bench::default_data_file("names.txt", argc > 1 ? argv[1] : "", "the path as argument 1");
    const int steps = argc > 2 ? std::stoi(argv[2]) : 1000;

    const auto names = gflow::io::read_documents(path);
    const auto chars = gflow::io::vocabulary::from_documents(names);
    if (chars.bos() + 1 != model.config.vocab)
        throw gflow::input_error(fmt::format("{}: {} distinct characters, the model is built for {}",
                                             path, chars.size(), model.config.vocab - 1));
    std::vector<std::vector<int>> docs;
    for (std::size_t i = 0; i < names.documents.size(); ++i)
        docs.push_back(gflow::io::encode(chars, names.documents[i], path, i));
    gflow::rng rng(42);
    rng.shuffle(std::span(docs));

    auto net = gflow::instantiate<float>(model, 42);
    const gflow::adam adam{.lr = 0.01, .beta1 = 0.85, .beta2 = 0.99, .decay_steps = steps};
    double recent = 0;
    for (int step = 0; step < steps; ++step) {
        recent += net.train_step(docs[step % docs.size()], adam, step);
        if ((step + 1) % 100 == 0 || step + 1 == steps) {
            fmt::print("step {:4} / {}  mean loss {:.4f}\n", step + 1, steps, recent / (step % 100 + 1));
            recent = 0;
        }
    }
    fmt::print("\n10 sampled names (temperature 0.5):\n");
    for (int i = 0; i < 10; ++i)
        fmt::print("  {}\n", gflow::io::decode_utf8(chars, net.sample(rng, chars.bos())));
} catch (const gflow::input_error& e) {
    fmt::print(stderr, "minimal: {}\n", e.what());
    return 2;
} catch (const std::exception& e) {
    fmt::print(stderr, "minimal: {}\n", e.what());
    return 1;
}
