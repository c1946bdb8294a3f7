// annotated.cpp: minimal.cpp again, with every line explained for a newcomer.
//
// It is a complete character-level language model of first names: the Grassmann model of
// "Attention Is Not What You Need" (arXiv:2512.19428) as the microGrassmann reference builds it,
// trained on names.txt, then asked to invent ten names.
//
// Usage: annotated [names.txt] [steps]
//   names.txt   default: the project's data/names.txt, found from any working directory
//   steps       training steps (default 1000)

// <span> gives std::span, a view of a contiguous array (here: to shuffle the documents in place).
#include <span>
// std::string and std::vector: text and growable arrays.
#include <string>
#include <vector>

// fmt formats and prints text: fmt::print("{} {:.4f}\n", a, b) is a typed printf.
#include <fmt/core.h>

// bench.hpp gives gflow::bench::default_data_file, which finds the data that ships with gflow.
#include <gflow/bench/bench.hpp>
// gflow.hpp brings in the whole DSL: the terms, gflow::model, gflow::network, Adam, the generator.
#include <gflow/gflow.hpp>
// text_data.hpp reads a text file as documents (one per line) and turns characters into tokens.
#include <gflow/io/text_data.hpp>

// The term names (token_embedding, rmsnorm, grassmann, ...) live in gflow::terms; this lets the
// model below read like the formula it is.
using namespace gflow::terms;

// The model, as one compile-time expression. `constexpr`: it is a value the compiler knows, and
// its type holds the whole structure, so every shape and parameter count is checked at compile time.
// gflow::model<vocab<27>, block<16>, width<16>>: 27 tokens (26 letters and BOS, the token that
// starts and ends a name), at most 16 positions, and vectors of d = 16 numbers.
constexpr auto model = gflow::model<vocab<27>, block<16>, width<16>>(
    // x = rmsnorm(wte[token] + wpe[position]): each token and each position has a learned vector
    // of 16 numbers; their sum is divided by its root mean square. `>>` means "then".
    (token_embedding + position_embedding) >> rmsnorm
    // repeat<1>: one layer (the paper uses 6 to 12). residual(f) computes x + f(x), so the layer
    // adds to the vector instead of replacing it. The mixer is the only term that looks at other
    // positions: grassmann<4> reduces h to r = 4 numbers and pairs position t with t-1, t-2, t-4,
    // t-8, t-12 and t-16 through the Plücker coordinates of the two reduced vectors.
    >> repeat<1>(residual(rmsnorm >> grassmann<4>(offsets<1, 2, 4, 8, 12, 16>))
                 // then a feed-forward network on each position alone: 16 -> 64, relu, 64 -> 16
                 >> residual(rmsnorm >> ffn<4>(relu)))
    // lm_head maps the 16 numbers to 27 scores (logits), one per possible next token.
    >> lm_head);

// main returns 0 on success. `try` around the whole body lets the `catch` clauses at the end turn
// errors into a message and an exit status.
int main(int argc, char** argv) try {
    // Where names.txt is: the path given as the first argument, else the copy that ships in the
    // project's data/ (or the installed one), found from any working directory; else an error.
    const std::string path =
        gflow::bench::default_data_file("names.txt", argc > 1 ? argv[1] : "", "the path as argument 1");
    // The number of training steps: the second argument, or 1000.
    const int steps = argc > 2 ? std::stoi(argv[2]) : 1000;

    // One document per non-blank line. A missing or unreadable file throws gflow::input_error.
    const auto names = gflow::io::read_documents(path);
    // The vocabulary: the distinct characters of the file, sorted ('a' = 0 ... 'z' = 25), then BOS.
    const auto chars = gflow::io::vocabulary::from_documents(names);
    // The model was built for 26 characters and BOS; another file would not fit it.
    if (chars.bos() + 1 != model.config.vocab)
        // input_error is gflow's "the input is wrong" exception; the catch below prints it.
        throw gflow::input_error(fmt::format("{}: {} distinct characters, the model is built for {}",
                                             path, chars.size(), model.config.vocab - 1));
    // Every name as a list of tokens: "emma" becomes [BOS, 4, 12, 12, 0, BOS].
    std::vector<std::vector<int>> docs;
    // For each document i...
    for (std::size_t i = 0; i < names.documents.size(); ++i)
        // ...encode it (the path and index only name the document in an error message).
        docs.push_back(gflow::io::encode(chars, names.documents[i], path, i));
    // gflow's random generator: the same seed gives the same numbers on every machine.
    gflow::rng rng(42);
    // Shuffle the names, so that training does not see them in alphabetical order.
    rng.shuffle(std::span(docs));

    // The model's parameters in float, each drawn from Normal(0, 0.08^2) with seed 42. The
    // network owns one block of memory for parameters, gradients, Adam's state and activations.
    auto net = gflow::instantiate<float>(model, 42);
    // Adam, with the reference's settings; the learning rate falls linearly to 0 over `steps`.
    const gflow::adam adam{.lr = 0.01, .beta1 = 0.85, .beta2 = 0.99, .decay_steps = steps};
    // The sum of the losses since the last report.
    double recent = 0;
    // The training loop: one name per step.
    for (int step = 0; step < steps; ++step) {
        // Forward pass, loss, backward pass and Adam update, all in one call, with no allocation.
        // The loss is the mean over the name's positions of -log(probability of the true next
        // token); an untrained model scores about ln(27) = 3.3.
        recent += net.train_step(docs[step % docs.size()], adam, step);
        // Every 100 steps, and at the last one...
        if ((step + 1) % 100 == 0 || step + 1 == steps) {
            // ...print the mean loss of the steps since the last report...
            fmt::print("step {:4} / {}  mean loss {:.4f}\n", step + 1, steps, recent / (step % 100 + 1));
            // ...and start a new sum.
            recent = 0;
        }
    }
    // The trained model invents names.
    fmt::print("\n10 sampled names (temperature 0.5):\n");
    // Ten times:
    for (int i = 0; i < 10; ++i)
        // sample: start from BOS, draw each next token from the model's probabilities (sharpened
        // by temperature 0.5), stop at BOS or after 16 tokens; decode_utf8 turns tokens into text.
        fmt::print("  {}\n", gflow::io::decode_utf8(chars, net.sample(rng, chars.bos())));
    // Reaching the end of main returns 0: success.
} catch (const gflow::input_error& e) {
    // Bad input (a missing file, a wrong vocabulary): one line on stderr, exit status 2.
    fmt::print(stderr, "annotated: {}\n", e.what());
    return 2;
} catch (const std::exception& e) {
    // Anything else that went wrong (for example a steps argument that is not a number): status 1.
    fmt::print(stderr, "annotated: {}\n", e.what());
    return 1;
}
